/**
 * Per-frame observations in episode files (for saliency): round trips of every dtype, the file
 * otherwise unchanged (same version, frames and steps), and the reader refusing altered ones.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { EpisodeFormatError, InvalidConfigError, SpaceMismatchError } from '../../../src/errors.js';
import { EpisodeEncoder, type EpisodeStart } from '../../../src/replay/episodes/encoder.js';
import { readEpisode } from '../../../src/replay/episodes/reader.js';
import { readEpisodeFile } from '../../../src/replay/episodes/read-file.js';
import { RecordEpisode } from '../../../src/replay/episodes/record-episode.js';
import { recordPolicyEpisode } from '../../../src/replay/episodes/record-policy.js';
import { SeededRng } from '../../../src/envs/rng.js';
import { GridGame } from './grid-game.js';
import '../../../games/index.js';
import { make } from '../../../src/envs/registry.js';
import { FrameStack } from '../../../src/envs/wrappers/frame-stack.js';
import { GrayScale } from '../../../src/envs/wrappers/gray-scale.js';
import { Resize } from '../../../src/envs/wrappers/resize.js';
import { basicPolicyFile, preprocessChain } from '../../../src/export/export-policy.js';
import { FramePipeline } from '../../../src/runtime/frame-pipeline.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcep-obs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Plays GridGame with seeded random actions, recording to `name`; returns every observation the env handed out (copies), frame by frame. */
function play(name: string, observations: boolean): { path: string; obs: Uint8Array[] } {
  const env = new GridGame();
  const rec = new RecordEpisode(env, { dir: tmp, name: () => name, keyframeInterval: 8, observations });
  const rng = new SeededRng(3);
  const obs = [rec.reset({ seed: 3 }).obs.slice()];
  for (let t = 0; t < 29; t++) obs.push(rec.step(rng.int(0, 6)).obs.slice());
  rec.close();
  return { path: rec.files[0]!, obs };
}

const start = (shape: number[], dtype: 'uint8' | 'int32' | 'float32'): EpisodeStart => ({
  game: { id: 'test/any', options: {}, maxEpisodeSteps: null },
  seed: 1,
  resetOptions: null,
  stateBeforeReset: null,
  stateAtReset: null,
  actionNames: ['a', 'b'],
  observationSpace: { type: 'Box', shape, dtype, low: [0], high: [1] },
  actionSpace: { type: 'Discrete', n: 2, start: 0 } as EpisodeStart['actionSpace'],
});

const frame = { width: 4, height: 4, data: new Uint8Array(48) };

describe('episode observations', () => {
  it('every frame\'s observation reads back as recorded, across chunks; frames, actions and version unchanged', () => {
    const withObs = play('with', true);
    const without = play('without', false);
    const a = readEpisodeFile(withObs.path);
    const b = readEpisodeFile(without.path);
    expect(a.observations).toEqual({ dtype: 'uint8', shape: [10, 10, 4] });
    expect(a.frameCount).toBe(30);
    for (let k = 0; k < a.frameCount; k++) expect(a.observation(k)).toEqual(withObs.obs[k]);
    // Backwards: frame 29 (last chunk), then 3 (first chunk) again.
    expect(a.observation(29)).toEqual(withObs.obs[29]);
    expect(a.observation(3)).toEqual(withObs.obs[3]);
    expect(a.header.version).toBe(1);
    expect(b.observations).toBeNull();
    expect(b.observation(0)).toBeNull();
    expect(Array.from(a.actions)).toEqual(Array.from(b.actions));
    for (const k of [0, 9, 29]) expect(a.frame(k).data).toEqual(b.frame(k).data);
    expect(() => a.observation(30)).toThrow(InvalidConfigError);
  });

  it('int32 and float32 observations round-trip exactly (little-endian)', () => {
    for (const [dtype, make] of [
      ['float32', (t: number) => Float32Array.from({ length: 6 }, (_, i) => Math.fround(Math.sin(t + i) * 1e3))],
      ['int32', (t: number) => Int32Array.from({ length: 6 }, (_, i) => (t - i) * 123456789)],
    ] as const) {
      const bytes: Uint8Array[] = [];
      const enc = new EpisodeEncoder({ keyframeInterval: 2, onRecord: (b) => bytes.push(b) });
      const obs = Array.from({ length: 6 }, (_, t) => make(t));
      enc.begin(start([2, 3], dtype), frame, obs[0]);
      for (let t = 1; t < 6; t++) enc.step({ action: t % 2, reward: 0, terminated: t === 5, truncated: false, frame, obs: obs[t] });
      enc.finish();
      const ep = readEpisode(new Uint8Array(Buffer.concat(bytes)));
      expect(ep.observations).toEqual({ dtype, shape: [2, 3] });
      for (let k = 0; k < 6; k++) expect(Array.from(ep.observation(k)!)).toEqual(Array.from(obs[k]!));
    }
  });

  it('refuses a step without its observation, a Dict observation space and a multi-agent episode', () => {
    const enc = new EpisodeEncoder({ onRecord: () => undefined });
    enc.begin(start([2, 3], 'uint8'), frame, new Uint8Array(6));
    expect(() => enc.step({ action: 0, reward: 0, terminated: false, truncated: false, frame })).toThrow(SpaceMismatchError);
    expect(() => enc.step({ action: 0, reward: 0, terminated: false, truncated: false, frame, obs: new Uint8Array(5) })).toThrow(/expected an observation of 6 values/);
    const dict = { ...start([2], 'uint8'), observationSpace: { type: 'Dict', spaces: {} } as EpisodeStart['observationSpace'] };
    expect(() => new EpisodeEncoder({ onRecord: () => undefined }).begin(dict, frame, new Uint8Array(2))).toThrow(/^\[EpisodeEncoder.begin\] expected a Box observation space \(received Dict\)/);
  });

  it('an altered observation byte fails the chunk\'s obsCrc with EpisodeFormatError', () => {
    const { path } = play('flip', true);
    const records: Record<string, unknown>[] = [];
    new Unpackr({ useRecords: false, mapsAsObjects: true }).unpackMultiple(new Uint8Array(readFileSync(path)), (v: unknown) => {
      records.push(v as Record<string, unknown>);
    });
    const c = records[1]!;
    const data = (c.obsData as Uint8Array).slice();
    data[data.length >> 1]! ^= 0x10;
    records[1] = { ...c, obsData: data };
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const bytes = new Uint8Array(Buffer.concat(records.map((r) => packr.pack(r))));
    expect(() => readEpisode(bytes)).toThrow(EpisodeFormatError);
    expect(() => readEpisode(bytes)).toThrow(/expected chunk 0 observations with a matching CRC-32/);
  });

  it('pixel games: the stored observation is the network input, the policy\'s preprocessing of the recorded frames', () => {
    // MinAtar drawn as pixels (its rgb observation is its rendered frame), grayscaled, resized to 42x42 and stacked by 4.
    const raw = make<Uint8Array, number>('minatar/breakout', { obsType: 'rgb', maxEpisodeSteps: 30 });
    const env = new FrameStack(new Resize(new GrayScale(raw), { height: 42, width: 42 }), { k: 4 });
    const rec = new RecordEpisode(env, { dir: tmp, name: () => 'pixels', observations: true });
    const rng = new SeededRng(8);
    rec.reset({ seed: 8 });
    for (;;) {
      const r = rec.step(rng.int(0, 3));
      if (r.terminated || r.truncated) break;
    }
    rec.close();
    const ep = readEpisodeFile(rec.files[0]!);
    expect(ep.observations).toEqual({ dtype: 'uint8', shape: [42, 42, 4] });
    const { steps, frame } = preprocessChain(env);
    const pipeline = new FramePipeline(basicPolicyFile({ game: 'minatar/breakout', frame, preprocess: steps, observation: { shape: [42, 42, 4], dtype: 'uint8', high: 255 }, actions: ['a', 'b', 'c'] }));
    for (let k = 0; k < ep.frameCount; k++) expect(Array.from(pipeline.process(ep.frame(k).data))).toEqual(Array.from(ep.observation(k)!));
  });

  it('recordPolicyEpisode stores the observations its policy was given', async () => {
    const seen: Uint8Array[] = [];
    const f = await recordPolicyEpisode({ env: new GridGame(), dir: tmp, name: 'policy', seed: 4, maxSteps: 12, observations: true, policy: (obs, t) => {
      seen.push((obs as Uint8Array).slice());
      return { action: t % 6 };
    } });
    const ep = readEpisodeFile(f.path);
    for (let k = 0; k < seen.length; k++) expect(ep.observation(k)).toEqual(seen[k]);
  });
});
