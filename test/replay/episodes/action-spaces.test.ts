/**
 * Episodes of games with MultiDiscrete and Box actions (format version 2), and the promise that
 * Discrete episodes did not change: they are still version 1, byte for byte.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { make } from '../../../src/envs/registry.js';
import { SeededRng } from '../../../src/envs/rng.js';
import { Box, Dict, MultiDiscrete } from '../../../src/envs/spaces.js';
import { EpisodeFormatError, InvalidConfigError, UnsupportedVersionError } from '../../../src/errors.js';
import type { Env, RgbFrame } from '../../../src/envs/env.js';
import { EpisodeEncoder, RecordEpisode, encodeEpisode, readEpisode, readEpisodeFile, recordPolicyEpisode, verifyEpisode, type EpisodeAction, type RecordedStep } from '../../../src/replay/episodes/index.js';
import { BOX2, TANK, episode2, f32, header2 } from './hostile-episodes.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcep-actions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'episodes', 'catch-v1.npcep');

interface Played {
  file: string;
  actions: EpisodeAction[];
  rewards: number[];
  frames: RgbFrame[];
}

/** Plays `steps` random actions (sampled from the action space) through a recorder. */
function play(id: string, seed: number, steps: number, annotate?: (t: number) => Record<string, unknown>): Played {
  const env = make<unknown, EpisodeAction>(id);
  const rng = new SeededRng(seed + 100);
  const rec = new RecordEpisode(env, { dir: join(tmp, id), name: () => `${id}-s${seed}`, keyframeInterval: 8 });
  const out: Played = { file: '', actions: [], rewards: [], frames: [] };
  rec.reset({ seed });
  out.frames.push(env.render!());
  for (let t = 0; t < steps; t++) {
    const a = env.actionSpace.sample(rng) as EpisodeAction;
    if (annotate) rec.annotateNext(annotate(t));
    const r = rec.step(a);
    out.actions.push(a);
    out.rewards.push(r.reward);
    out.frames.push(env.render!());
    if (r.terminated || r.truncated) break;
  }
  rec.close();
  out.file = rec.files[0]!;
  return out;
}

describe('episodes of MultiDiscrete and Box games', () => {
  it('tank (MultiDiscrete [5, 3, 2]): one index per part per step, annotations per flat action name, replayable', () => {
    const p = play('tank', 3, 40, (t) => ({ probs: Array.from({ length: 10 }, (_, i) => ((i + t) % 10) / 10), value: t / 10 }));
    const ep = readEpisodeFile(p.file);
    expect(ep.header.version).toBe(2);
    expect(ep.header.actionSpace).toEqual({ type: 'MultiDiscrete', nvec: [5, 3, 2] });
    expect(ep.actionLayout).toEqual({ kind: 'multi-discrete', width: 3, nvec: [5, 3, 2] });
    expect(ep.actions).toBeInstanceOf(Int32Array);
    expect(ep.actions).toHaveLength(ep.stepCount * 3);
    expect(ep.stepCount).toBe(p.actions.length);
    p.actions.forEach((a, t) => {
      const got = ep.action(t);
      expect(got).toBeInstanceOf(Int32Array);
      expect(Array.from(got as Int32Array)).toEqual(Array.from(a as Int32Array));
    });
    expect(Array.from(ep.rewards)).toEqual(p.rewards);
    expect(ep.annotation(5)!.probs).toHaveLength(10);
    expect(ep.annotation(5)!.probs![0]).toBeCloseTo(0.5, 3);
    for (let k = 0; k < ep.frameCount; k++) expect(Buffer.from(ep.frame(k).data).equals(Buffer.from(p.frames[k]!.data))).toBe(true);
    expect(verifyEpisode(ep)).toMatchObject({ ok: true, steps: ep.stepCount, mismatch: null });
  });

  for (const id of ['pendulum', 'mountain-car-continuous']) {
    it(`${id} (Box): float32 actions stored exactly, replayable`, () => {
      const p = play(id, 5, 60);
      const ep = readEpisodeFile(p.file);
      const space = make(id).actionSpace as Box;
      expect(ep.header.version).toBe(2);
      expect(ep.actionLayout).toEqual({ kind: 'box', width: space.size, low: Array.from(space.low), high: Array.from(space.high) });
      expect(ep.actions).toBeInstanceOf(Float32Array);
      expect(Array.from(ep.actions)).toEqual(p.actions.flatMap((a) => Array.from(a as Float32Array)));
      expect(ep.action(7)).toEqual(Float32Array.from(p.actions[7] as Float32Array));
      expect(verifyEpisode(ep)).toMatchObject({ ok: true, mismatch: null });
    });
  }

  it('a Box action given as plain numbers reaches the env as the float32 values the file stores', () => {
    const env = make<unknown, EpisodeAction>('pendulum');
    const rec = new RecordEpisode(env, { dir: join(tmp, 'f64'), name: () => 'f64' });
    rec.reset({ seed: 1 });
    for (let t = 0; t < 20; t++) rec.step([Math.sin(t) * 1.9 + 1e-9]);
    rec.close();
    const ep = readEpisodeFile(rec.files[0]!);
    expect(ep.actions[3]).toBe(Math.fround(Math.sin(3) * 1.9 + 1e-9));
    expect(verifyEpisode(ep).ok).toBe(true);
  });

  it('verify names the first frame a tampered Box action changes', () => {
    const p = play('pendulum', 8, 30);
    const ep = readEpisodeFile(p.file);
    const steps: RecordedStep[] = Array.from({ length: ep.stepCount }, (_, t) => ({ action: t === 10 ? Float32Array.of(-(ep.actions[t]! || 1)) : ep.action(t), reward: ep.rewards[t]!, terminated: false, truncated: ep.truncated[t] === 1, frame: ep.frame(t + 1) }));
    const bad = readEpisode(encodeEpisode(ep.header, ep.frame(0), steps));
    // Step 10 leads to frame 11 (a negated torque has the same cost, so the picture differs first).
    expect(verifyEpisode(bad)).toMatchObject({ ok: false, mismatch: { frame: 11, field: 'frame' } });
  });

  it('recordPolicyEpisode records rows from a policy (the runner hook for Box and MultiDiscrete evaluation)', async () => {
    const env = make<Float32Array, Int32Array>('tank');
    const f = await recordPolicyEpisode({ env, dir: join(tmp, 'hook'), name: 'tank-hook', seed: 2, maxSteps: 6, policy: (_obs, t) => ({ action: Int32Array.of(t % 5, 1, t % 2), info: { value: 0.25 } }) });
    const ep = readEpisodeFile(f.path);
    expect(Array.from(ep.actions)).toEqual([0, 1, 0, 1, 1, 1, 2, 1, 0, 3, 1, 1, 4, 1, 0, 0, 1, 1].slice(0, ep.stepCount * 3));
    expect(ep.annotation(0)!.value).toBeCloseTo(0.25, 3);
    expect(verifyEpisode(ep).ok).toBe(true);
  });
});

describe('the encoder and recorder check actions against the action space', () => {
  const frame = { width: 4, height: 4, data: new Uint8Array(48) };
  const start = (actionSpace: unknown) => ({ game: { id: 'g', options: {}, maxEpisodeSteps: null }, seed: 0, resetOptions: null, stateBeforeReset: null, stateAtReset: null, actionNames: ['a'], observationSpace: { type: 'Discrete' as const, n: 2, start: 0 }, actionSpace: actionSpace as never });
  const step = (action: EpisodeAction): RecordedStep => ({ action, reward: 0, terminated: false, truncated: false, frame });
  const encoder = (space: unknown): EpisodeEncoder => {
    const e = new EpisodeEncoder({ onRecord: () => {} });
    e.begin(start(space), frame);
    return e;
  };

  it('refuses rows of the wrong length or type, NaN, and parts out of range, in one line', () => {
    const box = encoder(BOX2);
    expect(() => box.step(step(Float32Array.of(1)))).toThrow(/\[EpisodeEncoder\.step\] expected an action of 2 numbers \(Box action space\), received Float32Array\(1\)/);
    expect(() => box.step(step(1))).toThrow(InvalidConfigError);
    expect(() => box.step(step([0, NaN]))).toThrow(/expected finite Box action values, received NaN at element 1/);
    const md = encoder(TANK);
    expect(() => md.step(step(Int32Array.of(0, 3, 0)))).toThrow(/expected part 1 of the action in \[0, 3\), received 3/);
    expect(() => md.step(step([0, 1.5, 0]))).toThrow(InvalidConfigError);
    expect(() => md.step(step(Int32Array.of(0, 1)))).toThrow(/3 integers \(MultiDiscrete action space\)/);
    // Rows are copied when given: the caller may reuse its array.
    const row = Int32Array.of(4, 2, 1);
    md.step(step(row));
    row.fill(0);
    const parts: Uint8Array[] = [];
    const e = new EpisodeEncoder({ onRecord: (b) => parts.push(b) });
    e.begin(start(TANK), frame);
    const reused = Int32Array.of(4, 2, 1);
    e.step(step(reused));
    reused.fill(0);
    e.step(step(reused));
    e.finish();
    const ep = readEpisode(new Uint8Array(Buffer.concat(parts)));
    expect(Array.from(ep.actions)).toEqual([4, 2, 1, 0, 0, 0]);
  });

  it('refuses action spaces it cannot store, before a recorder opens a file', () => {
    expect(() => encoder({ type: 'Box', shape: [2], dtype: 'int32', low: [0, 0], high: [3, 3] })).toThrow(/expected a Box action space of dtype float32 \(dtype int32\)/);
    expect(() => encoder({ type: 'Dict', spaces: {} })).toThrow(/expected an action space of type 'Discrete', 'MultiDiscrete' or 'Box'/);
    const dictGame = {
      observationSpace: new Box({ shape: [1], dtype: 'float32', low: 0, high: 1 }),
      actionSpace: new Dict({ move: new MultiDiscrete([2]) }),
      spec: { id: 'test/dict-actions', actionNames: ['a'] },
      reset: () => ({ obs: new Float32Array(1), info: {} }),
      step: () => ({ obs: new Float32Array(1), reward: 0, terminated: true, truncated: false, info: {} }),
      render: () => frame,
      close: () => {},
    } as unknown as Env<unknown, EpisodeAction>;
    const dir = join(tmp, 'dict');
    expect(() => new RecordEpisode(dictGame, { dir })).toThrow(/\[RecordEpisode\] expected an action space of type .*, received test\/dict-actions with Dict actions/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('reading version 1 and version 2 files', () => {
  it('a Discrete episode is still version 1, byte for byte the file the previous encoder wrote', () => {
    const golden = new Uint8Array(readFileSync(FIXTURE));
    const ep = readEpisode(golden);
    expect(ep.header.version).toBe(1);
    expect(ep.actionLayout).toEqual({ kind: 'discrete', width: 1 });
    expect(Array.from(ep.actions).join('')).toBe('110100011');
    expect(ep.action(0)).toBe(1);
    expect(verifyEpisode(ep).ok).toBe(true);
    // The same episode through today's encoder (the fixture was written before version 2 existed).
    const env = make<unknown, number>('catch');
    let inner: any = env;
    while (inner.env) inner = inner.env;
    env.reset({ seed: 3 });
    const first = env.render!();
    const stateAtReset = JSON.parse(JSON.stringify(inner.getState()));
    const rng = new SeededRng(3);
    const steps: RecordedStep[] = [];
    for (let t = 0; ; t++) {
      const a = rng.int(0, 3);
      const r = env.step(a);
      steps.push({ action: a, reward: r.reward, terminated: r.terminated, truncated: r.truncated, frame: env.render!(), annotation: { q: [t * 0.1, -t * 0.2, 0.5] } });
      if (r.terminated || r.truncated) break;
    }
    const start = { game: { id: 'catch', options: env.spec.options!, maxEpisodeSteps: env.spec.maxEpisodeSteps ?? null }, seed: 3, resetOptions: null, stateBeforeReset: null, stateAtReset, actionNames: env.spec.actionNames, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON(), meta: { fixture: 'episode format version 1' }, createdAt: '2026-12-06T00:00:00.000Z' };
    expect(Buffer.from(encodeEpisode(start, first, steps, { keyframeInterval: 4 })).equals(Buffer.from(golden))).toBe(true);
  });

  it('a hand-built version 2 file with Box actions reads; version 4 asks for an upgrade', () => {
    const ep = readEpisode(episode2(header2(BOX2), { actionBytes: 4, actions: f32([0.5, -1, 2, 1, -2, 0, 0.25, 0.75]) }));
    expect(Array.from(ep.actions)).toEqual([0.5, -1, 2, 1, -2, 0, 0.25, 0.75]);
    expect(ep.action(3)).toEqual(Float32Array.of(0.25, 0.75));
    expect(() => ep.action(4)).toThrow(InvalidConfigError);
    expect(() => readEpisode(episode2(header2(BOX2, { version: 4 }), { actionBytes: 4, actions: f32(new Array(8).fill(0)) }))).toThrow(UnsupportedVersionError);
    expect(() => readEpisode(episode2(header2(BOX2, { version: 4 }), { actionBytes: 4, actions: f32(new Array(8).fill(0)) }))).toThrow(/expected episode format version 1, 2 or 3, received version 4/);
    // Version 3 is the multi-agent format: a single-agent header claiming it lacks its agents.
    expect(() => readEpisode(episode2(header2(BOX2, { version: 3 }), { actionBytes: 4, actions: f32(new Array(8).fill(0)) }))).toThrow(/received .*agents \(1 to 64 agents\)/);
  });

  it('names what is wrong with the actions of a hostile file', () => {
    const err = (bytes: Uint8Array): string => {
      try {
        readEpisode(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(EpisodeFormatError);
        return (e as Error).message;
      }
      throw new Error('read');
    };
    expect(err(episode2(header2(BOX2), { actionBytes: 4, actions: f32([0, 0, 1, NaN, 0, 0, 0, 0]) }))).toMatch(/expected finite Box action values, received NaN at step 1 \(chunk 0\)/);
    expect(err(episode2(header2(TANK), { actionBytes: 1, actions: Uint8Array.of(0, 0, 0, 4, 2, 1, 1, 3, 0, 0, 0, 0) }))).toMatch(/expected action part 1 in \[0, 3\), received 3 at step 2/);
    expect(err(episode2(header2(BOX2), { actionBytes: 1, actions: new Uint8Array(8) }))).toMatch(/expected chunk 0 step data for 4 steps of 2 action values \(float32\)/);
  });
});
