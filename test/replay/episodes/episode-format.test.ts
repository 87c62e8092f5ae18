import { mkdtempSync, readFileSync, rmSync, existsSync, mkdirSync, writeFileSync, symlinkSync, truncateSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import '../../../games/index.js';
import { listEnvs, make } from '../../../src/envs/registry.js';
import { Discrete } from '../../../src/envs/spaces.js';

/** Games with Discrete actions (version 1 files; MultiDiscrete and Box games: action-spaces.test.ts). */
const discreteGames = listEnvs().filter(({ id }) => {
  const env = make(id);
  const ok = env.actionSpace instanceof Discrete;
  env.close();
  return ok;
});
import { SeededRng } from '../../../src/envs/rng.js';
import { EpisodeFormatError, InvalidConfigError, SpaceMismatchError, UnsupportedVersionError } from '../../../src/errors.js';
import type { Env, RgbFrame } from '../../../src/envs/env.js';
import {
  ANNOTATION_LEVELS,
  EPISODE_FORMAT,
  EpisodeEncoder,
  EpisodeFileWriter,
  RecordEpisode,
  encodeEpisode,
  readEpisode,
  verifyEpisode,
  type RecordedStep,
  type StepAnnotation,
} from '../../../src/replay/episodes/index.js';
import { GridGame, fakeAnnotation } from './grid-game.js';
import { header, hostileEpisodes, multiAgentEpisode, smallEpisode } from './hostile-episodes.js';
import { readEpisodeFile } from '../../../src/replay/episodes/index.js';
import { MAX_CHUNK_FRAME_BYTES, MAX_EPISODE_BYTES, msgpackExtent } from '../../../src/replay/episodes/format.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Recorded {
  file: string;
  frames: RgbFrame[];
  actions: number[];
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
  annotations: Array<StepAnnotation | undefined>;
}

/** Records one episode of `env` with a seeded random policy, keeping what Node rendered for comparison. */
function record(env: Env<unknown, number>, dir: string, seed: number, opts: { maxSteps?: number; annotate?: boolean; keyframeInterval?: number } = {}): Recorded {
  const rng = new SeededRng(seed + 1000);
  const nA = env.spec.actionNames.length;
  const out: Recorded = { file: '', frames: [], actions: [], rewards: [], terminated: [], truncated: [], annotations: [] };
  const rec = new RecordEpisode(env, { dir, keyframeInterval: opts.keyframeInterval ?? 4, name: () => `ep-s${seed}`, meta: { test: true, seed } });
  rec.reset({ seed });
  out.frames.push(env.render!());
  for (let t = 0; t < (opts.maxSteps ?? 10_000); t++) {
    const a = rng.int(0, nA);
    // Annotate two steps out of three, with a different field mix, to exercise the presence masks.
    const ann = opts.annotate && t % 3 !== 2 ? (t % 2 === 0 ? { q: fakeAnnotation(t, nA, rng).q } : { probs: fakeAnnotation(t, nA, rng).probs, value: t * 0.5 - 3 }) : undefined;
    if (ann) rec.annotateNext(ann);
    const r = rec.step(a);
    out.frames.push(env.render!());
    out.actions.push(a);
    out.rewards.push(r.reward);
    out.terminated.push(r.terminated);
    out.truncated.push(r.truncated);
    out.annotations.push(ann);
    if (r.terminated || r.truncated) break;
  }
  rec.close();
  out.file = rec.files[0]!;
  return out;
}

function expectSameFrame(a: RgbFrame, b: RgbFrame): void {
  expect(a.width).toBe(b.width);
  expect(a.height).toBe(b.height);
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
}

describe('episode format round trip', () => {
  for (const { id } of discreteGames) {
    it(`keeps every field of a ${id} episode`, () => {
      const env = make<unknown, number>(id, id === 'cartpole' ? { maxEpisodeSteps: 60 } : {});
      const rec = record(env, join(tmp, id.replace(/\//g, '_')), 7, { annotate: true });
      const ep = readEpisode(new Uint8Array(readFileSync(rec.file)));
      const h = ep.header;
      const ref = make<unknown, number>(id, id === 'cartpole' ? { maxEpisodeSteps: 60 } : {});
      expect(h.format).toBe(EPISODE_FORMAT);
      expect(h.version).toBe(1);
      expect(h.game).toEqual({ id, options: ref.spec.options, maxEpisodeSteps: ref.spec.maxEpisodeSteps ?? null });
      expect(h.seed).toBe(7);
      expect(h.resetOptions).toBeNull();
      expect(h.stateBeforeReset).toBeNull();
      ref.reset({ seed: 7 });
      let inner: any = ref;
      while (inner.env) inner = inner.env;
      expect(h.stateAtReset).toEqual(JSON.parse(JSON.stringify(inner.getState())));
      expect(h.actionNames).toEqual(ref.spec.actionNames);
      expect(h.observationSpace).toEqual(ref.observationSpace.toJSON());
      expect(h.actionSpace).toEqual(ref.actionSpace.toJSON());
      expect(h.meta).toEqual({ test: true, seed: 7 });
      expect(h.frameWidth).toBe(rec.frames[0]!.width);
      expect(h.keyframeInterval).toBe(4);
      expect(Number.isNaN(Date.parse(h.createdAt))).toBe(false);
      expect(ep.stepCount).toBe(rec.actions.length);
      expect(ep.frameCount).toBe(rec.actions.length + 1);
      expect(Array.from(ep.actions)).toEqual(rec.actions);
      expect(Array.from(ep.rewards)).toEqual(rec.rewards);
      expect(Array.from(ep.terminated, Boolean)).toEqual(rec.terminated);
      expect(Array.from(ep.truncated, Boolean)).toEqual(rec.truncated);
      expect(ep.end).toMatchObject({ steps: rec.actions.length, frames: rec.frames.length, return: rec.rewards.reduce((a, b) => a + b, 0) });
      expect(ep.returns[ep.frameCount - 1]).toBeCloseTo(ep.end!.return, 9);
      for (let k = 0; k < ep.frameCount; k++) expectSameFrame(ep.frame(k), rec.frames[k]!);
      rec.annotations.forEach((want, t) => {
        const got = ep.annotation(t);
        if (!want) return expect(got).toBeUndefined();
        for (const f of ['q', 'probs'] as const) {
          if (!want[f]) {
            expect(got?.[f]).toBeUndefined();
            continue;
          }
          // 12-bit quantisation over the chunk's range (range < 4 here): error <= range / 8190 + float32 rounding.
          Array.from(want[f]!).forEach((v, i) => expect(Math.abs(got![f]![i]! - v)).toBeLessThan(4 / (2 * ANNOTATION_LEVELS) + 1e-5));
        }
        if (want.value === undefined) expect(got?.value).toBeUndefined();
        else expect(Math.abs(got!.value! - want.value)).toBeLessThan(20 / (2 * ANNOTATION_LEVELS) + 1e-5);
      });
      expect(verifyEpisode(ep).ok).toBe(true);
    });
  }

  it('frame k decodes the same whatever the seek order (keyframe + deltas)', () => {
    const rec = record(new GridGame() as unknown as Env<unknown, number>, join(tmp, 'grid'), 3, { maxSteps: 300, keyframeInterval: 16 });
    const ep = readEpisode(new Uint8Array(readFileSync(rec.file)));
    const order = [299, 0, 17, 16, 15, 150, 151, 31, 32, 300, 1];
    for (const k of order) expectSameFrame(ep.frame(k), rec.frames[k]!);
    expect(() => ep.frameRgba(0, new Uint8Array(10))).toThrow(SpaceMismatchError);
    expect(() => ep.frame(301)).toThrow(InvalidConfigError);
    const rgba = ep.frameRgba(150);
    expect(rgba.length).toBe(80 * 80 * 4);
    expect(rgba[3]).toBe(255);
    expect([rgba[0], rgba[1], rgba[2]]).toEqual(Array.from(rec.frames[150]!.data.subarray(0, 3)));
  });

  it('stores frames with more than 256 colours as RGB chunks, losslessly', () => {
    const rng = new SeededRng(5);
    const noisy = (): RgbFrame => ({ width: 24, height: 20, data: Uint8Array.from({ length: 24 * 20 * 3 }, () => rng.int(0, 256)) });
    const first = noisy();
    const steps: RecordedStep[] = Array.from({ length: 40 }, (_, t) => ({ action: t % 3, reward: t * 0.1, terminated: t === 39, truncated: false, frame: noisy() }));
    const start = { game: { id: 'noise', options: {}, maxEpisodeSteps: null }, seed: 1, resetOptions: null, stateBeforeReset: null, stateAtReset: null, actionNames: ['a', 'b', 'c'], observationSpace: { type: 'Discrete' as const, n: 2, start: 0 }, actionSpace: { type: 'Discrete' as const, n: 3, start: 0 } };
    const ep = readEpisode(encodeEpisode(start, first, steps, { keyframeInterval: 8 }));
    expectSameFrame(ep.frame(0), first);
    for (let k = 1; k <= 40; k++) expectSameFrame(ep.frame(k), steps[k - 1]!.frame);
    expect(Array.from(ep.rewards)).toEqual(steps.map((s) => s.reward));
  });

  it('replays an episode reset without a seed from its pre-reset state', () => {
    const env = make<unknown, number>('catch');
    const rec = new RecordEpisode(env, { dir: join(tmp, 'noseed') });
    const rng = new SeededRng(2);
    rec.reset({ seed: 11 });
    for (let e = 0; e < 3; e++) {
      if (e > 0) rec.reset();
      for (;;) {
        const r = rec.step(rng.int(0, 3));
        if (r.terminated) break;
      }
    }
    rec.close();
    expect(rec.files).toHaveLength(3);
    for (const f of rec.files.slice(1)) {
      const ep = readEpisode(new Uint8Array(readFileSync(f)));
      expect(ep.header.seed).toBeNull();
      expect(ep.header.stateBeforeReset).not.toBeNull();
      expect(verifyEpisode(ep)).toMatchObject({ ok: true, mismatch: null });
    }
  });

  it('finishes an episode cut short by reset() or close() as a valid file', () => {
    const env = make<unknown, number>('cartpole');
    const rec = new RecordEpisode(env, { dir: join(tmp, 'cut') });
    rec.reset({ seed: 1 });
    rec.step(0);
    rec.step(1);
    rec.reset({ seed: 2 });
    rec.step(1);
    rec.close();
    const [a, b] = rec.files.map((f) => readEpisode(new Uint8Array(readFileSync(f))));
    expect(a!.stepCount).toBe(2);
    expect(a!.end).toMatchObject({ terminated: false, truncated: false, steps: 2 });
    expect(b!.stepCount).toBe(1);
    expect(verifyEpisode(a!).ok).toBe(true);
  });

  it('detects a tampered recording in verify', () => {
    const env = make<unknown, number>('catch');
    const rec = record(env, join(tmp, 'tamper'), 4);
    const ep = readEpisode(new Uint8Array(readFileSync(rec.file)));
    const steps: RecordedStep[] = rec.actions.map((a, t) => ({ action: t === 3 ? (a + 1) % 3 : a, reward: rec.rewards[t]!, terminated: rec.terminated[t]!, truncated: rec.truncated[t]!, frame: rec.frames[t + 1]! }));
    const h = ep.header;
    const bad = readEpisode(encodeEpisode({ ...h, meta: h.meta }, rec.frames[0]!, steps));
    const r = verifyEpisode(bad);
    expect(r.ok).toBe(false);
    expect(r.mismatch).toMatchObject({ frame: 4, field: 'frame' });
  });
});

describe('episode writer', () => {
  it('streams chunks to a .partial file and renames it on finish', () => {
    const env = new GridGame();
    env.reset({ seed: 1 });
    const path = join(tmp, 'stream', 'a.npcep');
    const w = new EpisodeFileWriter({ path, keyframeInterval: 8 });
    w.begin({ game: { id: 'test/grid', options: {}, maxEpisodeSteps: null }, seed: 1, resetOptions: null, stateBeforeReset: null, stateAtReset: env.getState(), actionNames: env.spec.actionNames, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, env.render());
    for (let t = 0; t < 20; t++) {
      const r = env.step(t % 6);
      w.step({ action: t % 6, reward: r.reward, terminated: false, truncated: false, frame: env.render() });
    }
    // The process could die here: the partial file holds the two complete chunks.
    expect(existsSync(path)).toBe(false);
    const partial = new Uint8Array(readFileSync(path + '.partial'));
    expect(() => readEpisode(partial)).toThrow(EpisodeFormatError);
    const recovered = readEpisode(partial, { allowIncomplete: true });
    expect(recovered.end).toBeNull();
    expect(recovered.stepCount).toBe(16);
    expect(recovered.frameCount).toBe(16);
    const end = w.finish();
    expect(existsSync(path + '.partial')).toBe(false);
    expect(end).toMatchObject({ steps: 20, frames: 21, chunks: 3 });
    expect(readEpisode(new Uint8Array(readFileSync(path))).stepCount).toBe(20);
  });

  it('validates its inputs with named errors', () => {
    expect(() => new EpisodeFileWriter({ path: join(tmp, 'x.bin') })).toThrow(InvalidConfigError);
    expect(() => new EpisodeEncoder({ keyframeInterval: 0, compressionLevel: 12, onRecord: () => {} })).toThrow(/keyframeInterval=0.*compressionLevel=12/);
    const enc = new EpisodeEncoder({ onRecord: () => {} });
    const frame = { width: 4, height: 4, data: new Uint8Array(48) };
    enc.begin({ game: { id: 'g', options: {}, maxEpisodeSteps: null }, seed: 0, resetOptions: null, stateBeforeReset: null, stateAtReset: null, actionNames: ['a', 'b'], observationSpace: { type: 'Discrete', n: 2, start: 0 }, actionSpace: { type: 'Discrete', n: 2, start: 0 } }, frame);
    expect(() => enc.step({ action: 0, reward: 0, terminated: false, truncated: false, frame: { width: 5, height: 4, data: new Uint8Array(60) } })).toThrow(SpaceMismatchError);
    expect(() => enc.step({ action: 0, reward: 0, terminated: false, truncated: false, frame, annotation: { q: [1, 2, 3] } })).toThrow(/one value per action \(2\)/);
    expect(() => enc.step({ action: 0.5, reward: 0, terminated: false, truncated: false, frame })).toThrow(InvalidConfigError);
    expect(() => enc.step({ action: 0, reward: NaN, terminated: false, truncated: false, frame })).toThrow(InvalidConfigError);
  });
});

describe('episode reader rejects what is not a valid episode', () => {
  const env = new GridGame();
  const dir = join(tmp, 'fuzz');
  const rec = record(env as unknown as Env<unknown, number>, dir, 9, { maxSteps: 120, annotate: true, keyframeInterval: 16 });
  const good = new Uint8Array(readFileSync(rec.file));

  /**
   * Reading must either succeed (and every frame then decodes) or throw EpisodeFormatError; nothing
   * else. The one exception: a flip that turns the header's version 1 into another integer is, by
   * design, indistinguishable from a newer file and gets UnsupportedVersionError.
   */
  function onlyFormatErrors(bytes: Uint8Array, allowVersionFlip = false): 'ok' | 'rejected' {
    try {
      const ep = readEpisode(bytes);
      for (let k = 0; k < ep.frameCount; k++) ep.frame(k);
      return 'ok';
    } catch (err) {
      if (allowVersionFlip && err instanceof UnsupportedVersionError) {
        expect((err as Error).message).toMatch(/received version (?!1\b)\d+/);
        return 'rejected';
      }
      if (!(err instanceof EpisodeFormatError)) throw new Error(`unexpected ${(err as Error).constructor.name}: ${(err as Error).message}`);
      expect((err as Error).message).toMatch(/^\[readEpisode\] expected .*, received .*; fix: /s);
      return 'rejected';
    }
  }

  it('rejects unknown versions with UnsupportedVersionError', () => {
    const bytes = pack({ format: EPISODE_FORMAT, version: 4, kind: 'header' });
    expect(() => readEpisode(bytes)).toThrow(UnsupportedVersionError);
    expect(() => readEpisode(bytes)).toThrow(/expected episode format version 1, 2 or 3, received version 4/);
  });

  it('rejects other files, empty input and non-integer versions', () => {
    expect(() => readEpisode(new Uint8Array(0))).toThrow(EpisodeFormatError);
    expect(() => readEpisode(pack({ format: 'something-else', version: 1 }))).toThrow(/format 'npcforge-episode'/);
    expect(() => readEpisode(pack({ format: EPISODE_FORMAT, version: '1' }))).toThrow(EpisodeFormatError);
    expect(() => readEpisode(new TextEncoder().encode('{"format":"npcforge-episode"}'))).toThrow(EpisodeFormatError);
  });

  it('rejects every truncation of a valid file', () => {
    expect(onlyFormatErrors(good)).toBe('ok');
    for (let n = 0; n < good.length; n += n < 200 ? 1 : 37) expect(onlyFormatErrors(good.subarray(0, n))).toBe('rejected');
  });

  it('fuzz: random bytes and corrupted copies give EpisodeFormatError only', () => {
    const rng = new SeededRng(123);
    let rejected = 0;
    for (let i = 0; i < 400; i++) {
      const len = rng.int(0, 600);
      const bytes = Uint8Array.from({ length: len }, () => rng.int(0, 256));
      // Half of them start like a msgpack map so that the decoder gets past the first byte.
      if (i % 2 === 0 && len > 0) bytes[0] = 0x80 | rng.int(0, 16);
      if (onlyFormatErrors(bytes) === 'rejected') rejected++;
    }
    expect(rejected).toBe(400);
    let corruptedRejected = 0;
    for (let i = 0; i < 300; i++) {
      const bytes = good.slice();
      for (let j = 0; j < 1 + (i % 4); j++) {
        const at = rng.int(0, bytes.length);
        bytes[at] = bytes[at]! ^ (1 << rng.int(0, 8));
      }
      if (onlyFormatErrors(bytes, true) === 'rejected') corruptedRejected++;
    }
    // A flip inside a free-form string (createdAt, a name) can leave a valid file; most flips must be caught.
    expect(corruptedRejected).toBeGreaterThan(200);
    const withTrailer = new Uint8Array(good.length + 3);
    withTrailer.set(good);
    withTrailer.set([0x01, 0x02, 0x03], good.length);
    expect(onlyFormatErrors(withTrailer)).toBe('rejected');
  });
});

describe('episode format limits (checked before allocating)', () => {
  /** Reads, decodes every frame and (when asked) re-simulates; returns the error thrown. */
  function outcome(bytes: Uint8Array, verify = false): Error | null {
    try {
      const ep = readEpisode(bytes);
      for (let k = 0; k < ep.frameCount; k++) ep.frame(k);
      // Observations inflate lazily too, as the viewer's saliency panel asks for them.
      if (ep.observations) for (let k = 0; k < ep.frameCount; k++) ep.observation(k);
      if (verify) verifyEpisode(ep);
      return null;
    } catch (err) {
      return err as Error;
    }
  }

  it('the hand-built base episode is valid', () => {
    expect(readEpisode(smallEpisode()).stepCount).toBe(4);
    // And the multi-agent builder's, so its hostile variants fail on what they aim at.
    const ma = readEpisode(multiAgentEpisode(3, 2, 4, true));
    expect(ma.agents!.map((a) => a.name)).toEqual(['p0', 'p1', 'p2']);
    expect(ma.agentAnnotation(1, 3)!.q).toEqual([0, 0]);
  });

  for (const h of hostileEpisodes()) {
    it(`rejects ${h.name} with ${h.expect}, quickly`, () => {
      const t0 = performance.now();
      const err = outcome(h.bytes, h.verify);
      expect(err?.constructor.name).toBe(h.expect);
      expect(err!.message).toMatch(/^\[[^\]]+\] expected .*, received .*; fix: /s);
      expect(err!.message.split('\n')).toHaveLength(1);
      expect(performance.now() - t0).toBeLessThan(5000);
    });
  }

  it('names the limit that was hit', () => {
    const byName = Object.fromEntries(hostileEpisodes().map((h) => [h.name, outcome(h.bytes, h.verify)?.message ?? '']));
    expect(byName['a header of 4 million one-byte values']).toMatch(/expected records of at most 1048576 msgpack values, received more in record #0/);
    expect(byName['65536 action names']).toMatch(/actionNames=array\(65536\) \(1 to 1024 names of at most 128 characters\)/);
    expect(byName['chunks of 4096 frames of 4096x4096 (over 2 GiB)']).toMatch(new RegExp(`keyframeInterval=4096 \\(at most ${MAX_CHUNK_FRAME_BYTES} frame bytes per chunk`));
    expect(byName['frame chunk inflating to 1 GiB (valid CRC)']).toMatch(/expected chunk 0 frames to inflate to their declared 768 bytes, received more/);
    expect(byName['step data inflating to 1 GiB (valid CRC)']).toMatch(/expected chunk 0 step data to inflate to at most \d+ bytes \(4 steps, 3 actions\), received more/);
    expect(byName['1024 actions x 20480 steps of zeroed Q-data']).toMatch(/expected at most 16777216 values of annotation q \(steps x width\), received 20480 x 1024/);
    expect(byName['multi-agent: 64 agents x 65537 steps']).toMatch(/expected at most 4194304 agent-steps \(steps x agents\), received 65537 x 64/);
    expect(byName['multi-agent: 64 agents of 1024 actions, 4096 steps, step data inflating to 64 MiB']).toMatch(/expected chunk 0 step data to inflate to at most 33554432 bytes \(4096 steps of 64 agents\), received more/);
    expect(byName['multi-agent: 64 agents of 1024 actions, 384 steps of Q-values']).toMatch(/expected at most 16777216 values of annotation q over all agents \(steps x widths\), received 384 x 65536/);
    expect(byName['multi-agent: 65 agents']).toMatch(/received agents \(1 to 64 agents\)/);
    expect(byName['observations inflating to 1 GiB (valid CRC)']).toMatch(/expected chunk 0 observations to inflate to their declared 1600 bytes, received more/);
    expect(byName['observations one value short']).toMatch(/expected chunk 0 to hold 1600 observation bytes, received 1599/);
    expect(byName['observations of 1e6 x 1e6 values']).toMatch(/observations \(observations of at most 1048576 values\)/);
    expect(byName['observations of 2^20 float32 values x 4096 frames per chunk']).toMatch(/observations \(at most 67108864 observation bytes per chunk/);
    expect(byName['observations of an unknown dtype']).toMatch(/observations \(observations.dtype 'uint8', 'int32' or 'float32'\)/);
    expect(byName['observations declared, a chunk without obsData']).toMatch(/obsData=undefined, obsCrc=undefined/);
    expect(byName['more than 2^16 chunks of one step']).toMatch(/expected at most 65536 chunks, received more/);
    expect(byName['more than 2^22 steps']).toMatch(/expected at most 4194304 steps, received more by chunk 1024/);
    expect(byName['a Box action space of 1e6 x 1e6 elements']).toMatch(/actionSpace of type Box \(version 2: a Box action space of 1 to 1024 elements\)/);
    expect(byName['a MultiDiscrete action space of 100000 parts']).toMatch(/version 2: a MultiDiscrete action space with 1 to 1024 parts/);
    expect(byName['version 2 with Discrete actions']).toMatch(/actionSpace of type Discrete \(version 2: a MultiDiscrete or Box action space\)/);
    expect(byName['1024 Box values x 20480 steps']).toMatch(/expected at most 16777216 action values \(steps x values per action\), received 20480 x 1024/);
    // The file's contents are described (numbers, byte lengths, types), never quoted.
    expect(byName['Box actions as a string']).toMatch(/expected chunk 0 step data for 4 steps of 2 action values \(float32\), received actionBytes 4, actions a string, rewardBytes 4, rewards 16 bytes, flags 4 bytes; fix:/);
    expect(byName['Box actions as a string']).not.toMatch(/xxxx/);
    expect(byName['game options rows 1e9, cellSize 1e6 (verify)']).toMatch(/^\[verifyEpisode\] expected game options in the episode header that catch accepts, received \[catch\] expected columns \* cellSize by rows \* cellSize within the frame limits/);
  });

  it('game options the game refuses name the file, with one fix that is not "pass other options"', () => {
    const bomb = hostileEpisodes().find((h) => h.name === 'game options rows 1e9, cellSize 1e6 (verify)')!;
    const ep = readEpisode(bomb.bytes, { source: 'bomb.npcep' });
    const err = (() => {
      try {
        verifyEpisode(ep);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected verifyEpisode to throw');
    })();
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err.message).toMatch(/^\[verifyEpisode bomb\.npcep\] expected game options/);
    expect(err.message.match(/fix:/g)).toHaveLength(1);
    expect(err.message).toMatch(/fix: record the episode again/);
  });

  it('msgpackExtent measures values without decoding them', () => {
    const samples: unknown[] = [
      0, -1, -33, 127, 128, 255, 256, 65535, 65536, 2 ** 32, -(2 ** 31), -(2 ** 40), 0.5, 1e300, null, true, false,
      '', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(300), 'd'.repeat(70000),
      new Uint8Array(0), new Uint8Array(300), new Uint8Array(70000),
      Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 70000 }, () => 1),
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, { nested: [i, 'x', null] }])),
      header(),
    ];
    for (const v of samples) {
      const bytes = pack(v);
      const withTail = new Uint8Array(bytes.length + 2);
      withTail.set(bytes);
      expect(msgpackExtent(withTail, 0, 1 << 20).end).toBe(bytes.length);
      expect(msgpackExtent(bytes.subarray(0, bytes.length - 1), 0, 1 << 20).end).toBe(-1);
    }
    // { a: [1, 2], b: 'x' }: the map, 2 keys, the array, 2 items, the string.
    expect(msgpackExtent(pack({ a: [1, 2], b: 'x' }), 0, 100)).toEqual({ end: pack({ a: [1, 2], b: 'x' }).length, values: 7 });
    expect(msgpackExtent(pack(new Array(1000).fill(0)), 0, 100).values).toBe(101);
  });

  it('the encoder keeps to the limits it reads with (big frames get short chunks)', () => {
    const frame = { width: 4096, height: 4096, data: new Uint8Array(4096 * 4096 * 3) };
    const start = { game: { id: 'g', options: {}, maxEpisodeSteps: null }, seed: 0, resetOptions: null, stateBeforeReset: null, stateAtReset: null, actionNames: ['a'], observationSpace: { type: 'Discrete' as const, n: 2, start: 0 }, actionSpace: { type: 'Discrete' as const, n: 1, start: 0 } };
    const ep = readEpisode(encodeEpisode(start, frame, [{ action: 0, reward: 0, terminated: true, truncated: false, frame }]));
    expect(ep.header.keyframeInterval).toBe(1);
    expect(() => new EpisodeEncoder({ keyframeInterval: 64, onRecord: () => {} }).begin(start, frame)).toThrow(/keyframeInterval x width x height x 3 <= 67108864/);
    expect(() => new EpisodeEncoder({ onRecord: () => {} }).begin({ ...start, actionNames: Array.from({ length: 2000 }, () => 'a') }, frame)).toThrow(InvalidConfigError);
  });

  it('the games refuse options that would render frames over the limit', () => {
    expect(() => make('catch', { rows: 1e9, cellSize: 1 })).toThrow(InvalidConfigError);
    expect(() => make('catch', { rows: 10, cellSize: 1e6 })).toThrow(/within the frame limits, received rendered frame 5000000x10000000/);
    expect(() => make('cartpole', { renderWidth: 1e6 })).toThrow(InvalidConfigError);
    expect(() => make('pong', { width: 512, height: 512, renderScale: 32 })).toThrow(/rendered frame 16384x16384/);
    expect(() => make('snake', { width: 256, height: 256, cellSize: 64 })).toThrow(/rendered frame 16384x16384/);
    expect(() => make('memory-maze', { corridorLength: 1000, cellSize: 64 })).toThrow(/rendered frame 192x64064/);
  });
});

describe('readEpisodeFile: regular files only, size checked before reading', () => {
  const dir = join(tmp, 'files');
  mkdirSync(dir, { recursive: true });

  function errorOf(path: string): Error {
    try {
      readEpisodeFile(path);
    } catch (err) {
      return err as Error;
    }
    throw new Error(`${path} was read`);
  }

  it('names a missing file, a folder, a FIFO, a device and an oversized file in one line', () => {
    const good = join(dir, 'good.npcep');
    writeFileSync(good, smallEpisode());
    expect(readEpisodeFile(good).stepCount).toBe(4);
    const missing = errorOf(join(dir, 'nope.npcep'));
    expect(missing).toBeInstanceOf(InvalidConfigError);
    expect(missing.message).toBe(`[readEpisode ${join(dir, 'nope.npcep')}] expected an episode file, received no such file; fix: check the path`);
    mkdirSync(join(dir, 'folder.npcep'));
    expect(errorOf(join(dir, 'folder.npcep')).message).toMatch(/expected a regular \.npcep file, received a folder/);
    execFileSync('mkfifo', [join(dir, 'fifo.npcep')]);
    expect(errorOf(join(dir, 'fifo.npcep')).message).toMatch(/received a FIFO/);
    symlinkSync('/dev/zero', join(dir, 'zero.npcep'));
    expect(errorOf(join(dir, 'zero.npcep')).message).toMatch(/received a device/);
    // Sparse: takes no disk, but stat says it is over the limit, so nothing is read.
    writeFileSync(join(dir, 'huge.npcep'), '');
    truncateSync(join(dir, 'huge.npcep'), MAX_EPISODE_BYTES + 1);
    const huge = errorOf(join(dir, 'huge.npcep'));
    expect(huge).toBeInstanceOf(EpisodeFormatError);
    expect(huge.message).toMatch(new RegExp(`expected an episode file of at most ${MAX_EPISODE_BYTES} bytes, received ${MAX_EPISODE_BYTES + 1} bytes`));
  });
});

describe('file size', () => {
  it('a 1,000-step 10x10 grid game at 80x80 with Q-value annotations stays under 40 KB', () => {
    const env = new GridGame();
    const rng = new SeededRng(1);
    env.reset({ seed: 3 });
    const first = env.render();
    const steps: RecordedStep[] = [];
    for (let t = 0; t < 1000; t++) {
      const a = rng.int(0, 6);
      const r = env.step(a);
      steps.push({ action: a, reward: r.reward, terminated: false, truncated: t === 999, frame: env.render(), annotation: fakeAnnotation(t, 6, rng) });
    }
    const start = { game: { id: 'test/grid', options: {}, maxEpisodeSteps: null }, seed: 3, resetOptions: null, stateBeforeReset: null, stateAtReset: env.getState(), actionNames: env.spec.actionNames, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() };
    const size = (f: (s: RecordedStep) => RecordedStep): number => encodeEpisode(start, first, steps.map(f)).length;
    const qOnly = size((s) => ({ ...s, annotation: { q: s.annotation!.q } }));
    const all = size((s) => s);
    const none = size((s) => ({ ...s, annotation: undefined }));
    console.log(`[episode size] grid 1000 steps 80x80: no annotations ${none} B, q ${qOnly} B, q+probs+value ${all} B`);
    expect(qOnly).toBeLessThanOrEqual(40 * 1024);
    expect(all).toBeLessThanOrEqual(40 * 1024);
  });
});

describe('file size of the registered games', () => {
  for (const { id } of discreteGames) {
    it(`logs the size of a ${id} episode with Q-values (under 40 KB per 1,000 steps)`, () => {
      const env = make<unknown, number>(id);
      const nA = env.spec.actionNames.length;
      const rng = new SeededRng(8);
      const rec = new RecordEpisode(env, { dir: join(tmp, 'sizes'), name: () => id.replace(/\//g, '_') });
      let obs = rec.reset({ seed: 8 }).obs as ArrayLike<number>;
      let steps = 0;
      // CartPole gets a balancing controller (long episode); other games cycle through action pairs.
      const policy = (t: number): number => (id === 'cartpole' ? (obs[2]! + obs[3]! > 0 ? 1 : 0) : Math.floor(t / 2) % nA);
      for (let t = 0; t < 1000; t++) {
        rec.annotateNext({ q: fakeAnnotation(t, nA, rng).q });
        const r = rec.step(policy(t));
        obs = r.obs as ArrayLike<number>;
        steps++;
        if (r.terminated || r.truncated) break;
      }
      rec.close();
      const bytes = readFileSync(rec.files[0]!).length;
      const f = env.render!();
      console.log(`[episode size] ${id}: ${steps} steps, ${f.width}x${f.height} frames, Q-values: ${bytes} B (${(bytes / steps).toFixed(1)} B/step)`);
      expect(readEpisode(new Uint8Array(readFileSync(rec.files[0]!))).stepCount).toBe(steps);
      // A fixed part (header with the env's reset state: MinAtar's MT19937 state alone is 624
      // words; first keyframe) plus at most 40 bytes per step; a 1,000-step episode within 40 KB.
      expect(bytes).toBeLessThan(8192 + 40 * steps);
      if (steps === 1000) expect(bytes).toBeLessThanOrEqual(40 * 1024);
    });
  }
});

describe('recordPolicyEpisode (the runner hook)', () => {
  it('records an async policy with its act() info as annotations, and stops at maxSteps', async () => {
    const { recordPolicyEpisode } = await import('../../../src/replay/episodes/index.js');
    const env = make<Float32Array, number>('cartpole');
    const file = await recordPolicyEpisode({
      env,
      dir: join(tmp, 'policy'),
      name: 'eval-0001',
      seed: 21,
      maxSteps: 15,
      meta: { agentStep: 5000 },
      policy: async (obs, t) => ({ action: obs[2]! > 0 ? 1 : 0, info: { q: Float32Array.of(t, -t), value: t / 2, extra: 'ignored' } }),
    });
    const ep = readEpisode(new Uint8Array(readFileSync(file.path)));
    expect(ep.stepCount).toBe(15);
    expect(ep.header.meta).toEqual({ agentStep: 5000 });
    expect(ep.annotation(7)!.q![0]).toBeCloseTo(7, 2);
    expect(ep.annotation(7)!.q![1]).toBeCloseTo(-7, 2);
    expect(ep.annotation(7)!.value).toBeCloseTo(3.5, 2);
    expect(ep.annotation(7)!.probs).toBeUndefined();
    expect(verifyEpisode(ep).ok).toBe(true);
    // The caller's env stays open: it can still be reset and stepped.
    env.reset({ seed: 1 });
    expect(() => env.step(0)).not.toThrow();
  });
});
