/**
 * Builders of hostile `.npcep` files for the reader's limit and fuzz tests: valid framing and
 * CRCs around absurd counts, sizes and zlib bombs, so that each reaches the check it is aimed at.
 */
import { deflateRawSync, constants as zc } from 'node:zlib';
import { pack } from 'msgpackr';
import { EPISODE_FORMAT, crc32 } from '../../../src/replay/episodes/format.js';

type Rec = Record<string, unknown>;

/** A valid header for 8x8 frames, 3 actions, K = 4; `over` replaces fields. */
export function header(over: Rec = {}): Rec {
  return {
    format: EPISODE_FORMAT,
    version: 1,
    kind: 'header',
    game: { id: 'catch', options: {}, maxEpisodeSteps: null },
    seed: 0,
    resetOptions: null,
    stateBeforeReset: null,
    stateAtReset: null,
    actionNames: ['left', 'stay', 'right'],
    observationSpace: { type: 'Discrete', n: 2, start: 0 },
    actionSpace: { type: 'Discrete', n: 3, start: 0 },
    frameWidth: 8,
    frameHeight: 8,
    keyframeInterval: 4,
    meta: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** Raw DEFLATE of `bytes` zero bytes, built from a repeated sync-flushed unit: a gigabyte costs ~1 MB and a few ms. */
export function zeroBomb(bytes: number): Uint8Array {
  const unitSize = Math.min(bytes, 1 << 24);
  const unit = deflateRawSync(Buffer.alloc(unitSize), { level: 9, finishFlush: zc.Z_SYNC_FLUSH });
  const units = Math.floor(bytes / unitSize);
  const tail = deflateRawSync(Buffer.alloc(bytes - units * unitSize), { level: 9 });
  return new Uint8Array(Buffer.concat([...Array.from({ length: units }, () => unit), tail]));
}

export const deflate = (b: Uint8Array): Uint8Array => new Uint8Array(deflateRawSync(b, { level: 9 }));

/** The msgpack step block of `n` steps (uint8 actions, float32 rewards), plus `extra` fields. */
export function stepBlock(n: number, extra: Rec = {}): Uint8Array {
  return pack({ actionBytes: 1, actions: new Uint8Array(n), rewardBytes: 4, rewards: new Uint8Array(n * 4), flags: new Uint8Array(n), ...extra });
}

/** A chunk record with a correct CRC over whatever frame and step data it is given. */
export function chunk(index: number, o: { K?: number; frames: number; steps: number; frameData: Uint8Array; stepData: Uint8Array; mode?: string }): Rec {
  const K = o.K ?? 4;
  return { kind: 'chunk', index, firstFrame: index * K, frames: o.frames, steps: o.steps, mode: o.mode ?? 'rgb', block: 1, palette: new Uint8Array(0), frameData: o.frameData, stepData: o.stepData, crc: crc32(o.frameData, o.stepData) };
}

/** RGB frame planes of `frames` 8x8 frames, deflated. */
export const frames8 = (frames: number): Uint8Array => deflate(new Uint8Array(frames * 8 * 8 * 3));

export function end(steps: number, chunks: number): Rec {
  return { kind: 'end', steps, frames: steps + 1, chunks, return: 0, terminated: true, truncated: false };
}

/** Concatenates records into file bytes. */
export function episode(records: Rec[]): Uint8Array {
  return new Uint8Array(Buffer.concat(records.map((r) => pack(r))));
}

/** A valid 4-step episode of 8x8 frames; `h` replaces header fields. */
export function smallEpisode(h: Rec = {}): Uint8Array {
  return episode([header(h), chunk(0, { frames: 4, steps: 4, frameData: frames8(4), stepData: deflate(stepBlock(4)) }), chunk(1, { frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(stepBlock(0)) }), end(4, 2)]);
}

/** A version 2 header with the given MultiDiscrete or Box action space. */
export const header2 = (actionSpace: Rec, over: Rec = {}): Rec => header({ version: 2, actionSpace, actionNames: ['a'], ...over });
export const BOX2 = { type: 'Box', shape: [2], dtype: 'float32', low: [-2, -1], high: [2, 1] };
export const TANK = { type: 'MultiDiscrete', nvec: [5, 3, 2] };

/** Float32 LE bytes of `values`. */
export const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

/** A 4-step episode of 8x8 frames with the given version-2 header and step block of the first chunk. */
export function episode2(h: Rec, block: Rec): Uint8Array {
  const empty = { actionBytes: block.actionBytes, actions: new Uint8Array(0), rewardBytes: 4, rewards: new Uint8Array(0), flags: new Uint8Array(0) };
  return episode([h, chunk(0, { frames: 4, steps: 4, frameData: frames8(4), stepData: deflate(pack({ rewardBytes: 4, rewards: new Uint8Array(16), flags: new Uint8Array(4), ...block })) }), chunk(1, { frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(pack(empty)) }), end(4, 2)]);
}

/** A version 3 (multi-agent) header of `agents` agents with `nA` actions each; `over` replaces fields. */
export function header3(agents: number, nA: number, over: Rec = {}): Rec {
  const actionNames = Array.from({ length: nA }, (_, i) => `a${i}`);
  const list = Array.from({ length: agents }, (_, i) => ({ name: `p${i}`, actionNames, actionSpace: { type: 'Discrete', n: nA, start: 0 }, observationSpace: { type: 'Discrete', n: 2, start: 0 }, controller: 'random' }));
  return header({ version: 3, agents: list, learner: null, actionNames, actionSpace: { type: 'Discrete', n: nA, start: 0 }, ...over });
}

/** A multi-agent step block of `n` steps of `agents` agents, all acting; `q` (nA actions) on every agent when given. */
export function agentStepBlock(n: number, agents: number, q?: number): Uint8Array {
  const fields = q === undefined ? {} : { q: { width: q, lo: 0, scale: 1, data: new Uint8Array(n * q * 2) } };
  return pack({ actionBytes: 1, actions: new Uint8Array(n * agents), rewardBytes: 4, rewards: new Uint8Array(n * agents * 4), flags: new Uint8Array(n * agents).fill(4), agents: Array.from({ length: agents }, () => fields) });
}

/** A multi-agent episode of `chunks` chunks of `n` steps of `agents` agents with `nA` actions each (Q-values on every agent with `q`), and the last frame. */
export function multiAgentEpisode(agents: number, nA: number, n: number, q: boolean, chunks = 1): Uint8Array {
  const sd = deflate(agentStepBlock(n, agents, q ? nA : undefined));
  const fd = deflate(new Uint8Array(n * 8 * 8 * 3));
  const full = Array.from({ length: chunks }, (_, i) => chunk(i, { K: n, frames: n, steps: n, frameData: fd, stepData: sd }));
  return episode([header3(agents, nA, { keyframeInterval: n }), ...full, chunk(chunks, { K: n, frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(agentStepBlock(0, agents)) }), end(n * chunks, chunks + 1)]);
}

/** Every hostile episode with the error class its reading (or verifying) must end in. */
export function hostileEpisodes(): Array<{ name: string; bytes: Uint8Array; expect: string; verify?: boolean }> {
  const K = 4096;
  const annotated = (nA: number, chunks: number): Uint8Array => {
    const block = deflate(stepBlock(K, { q: { width: nA, lo: 0, scale: 1, data: new Uint8Array(K * nA * 2) } }));
    const fd = deflate(new Uint8Array(K * 8 * 8 * 3));
    const names = Array.from({ length: nA }, (_, i) => `a${i}`);
    const full = Array.from({ length: chunks }, (_, i) => chunk(i, { K, frames: K, steps: K, frameData: fd, stepData: block }));
    return episode([header({ actionNames: names, keyframeInterval: K }), ...full, chunk(chunks, { K, frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(stepBlock(0)) }), end(chunks * K, chunks + 1)]);
  };
  const manySteps = (): Uint8Array => {
    const fd = deflate(new Uint8Array(K * 8 * 8 * 3));
    const sd = deflate(stepBlock(K));
    const n = (1 << 22) / K + 1;
    return episode([header({ keyframeInterval: K }), ...Array.from({ length: n }, (_, i) => chunk(i, { K, frames: K, steps: K, frameData: fd, stepData: sd }))]);
  };
  const wideBox = (): Uint8Array => {
    // 1024 float32 values per step x 20480 steps: over MAX_ACTION_VALUES before any step block is read.
    const box = { type: 'Box', shape: [32, 32], dtype: 'float32', low: new Array(1024).fill(-1), high: new Array(1024).fill(1) };
    const fd = deflate(new Uint8Array(K * 8 * 8 * 3));
    const sd = deflate(stepBlock(0));
    const full = Array.from({ length: 5 }, (_, i) => chunk(i, { K, frames: K, steps: K, frameData: fd, stepData: sd }));
    return episode([header2(box, { keyframeInterval: K }), ...full, chunk(5, { K, frames: 1, steps: 0, frameData: frames8(1), stepData: sd }), end(5 * K, 6)]);
  };
  const multiAgent = multiAgentEpisode;
  const manyAgentSteps = (): Uint8Array => {
    // 64 agents x 65,537 steps: over MAX_AGENT_STEP_VALUES before any step block is read.
    const sd = deflate(agentStepBlock(0, 64));
    const fd = deflate(new Uint8Array(K * 8 * 8 * 3));
    const full = Array.from({ length: 16 }, (_, i) => chunk(i, { K, frames: K, steps: K, frameData: fd, stepData: sd }));
    return episode([header3(64, 2, { keyframeInterval: K }), ...full, chunk(16, { K, frames: 2, steps: 1, frameData: frames8(2), stepData: sd }), end(16 * K + 1, 17)]);
  };
  // Observations (saliency): chunks carry obsData with its own CRC when the header declares them.
  const OBS = { dtype: 'uint8', shape: [10, 10, 4] };
  const withObs = (c: Rec, obsData: Uint8Array): Rec => ({ ...c, obsData, obsCrc: crc32(obsData) });
  const obsEpisode = (first: Uint8Array, h: Rec = {}): Uint8Array =>
    episode([
      header({ observations: OBS, ...h }),
      withObs(chunk(0, { frames: 4, steps: 4, frameData: frames8(4), stepData: deflate(stepBlock(4)) }), first),
      withObs(chunk(1, { frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(stepBlock(0)) }), deflate(new Uint8Array(400))),
      end(4, 2),
    ]);
  return [
    { name: 'observations inflating to 1 GiB (valid CRC)', bytes: obsEpisode(zeroBomb(1 << 30)), expect: 'EpisodeFormatError' },
    { name: 'observations one value short', bytes: obsEpisode(deflate(new Uint8Array(4 * 400 - 1))), expect: 'EpisodeFormatError' },
    { name: 'observations of 1e6 x 1e6 values', bytes: obsEpisode(deflate(new Uint8Array(1600)), { observations: { dtype: 'uint8', shape: [1e6, 1e6] } }), expect: 'EpisodeFormatError' },
    { name: 'observations of 2^20 float32 values x 4096 frames per chunk', bytes: obsEpisode(deflate(new Uint8Array(1600)), { keyframeInterval: 4096, observations: { dtype: 'float32', shape: [1024, 1024] } }), expect: 'EpisodeFormatError' },
    { name: 'observations of an unknown dtype', bytes: obsEpisode(deflate(new Uint8Array(1600)), { observations: { dtype: 'float64', shape: [10, 10, 4] } }), expect: 'EpisodeFormatError' },
    { name: 'observations declared, a chunk without obsData', bytes: episode([header({ observations: OBS }), chunk(0, { frames: 4, steps: 4, frameData: frames8(4), stepData: deflate(stepBlock(4)) }), end(4, 1)]), expect: 'EpisodeFormatError' },
    { name: 'multi-agent: 64 agents x 65537 steps', bytes: manyAgentSteps(), expect: 'EpisodeFormatError' },
    // 64 agents x 1024 actions x 4096 steps may hold ~1 GiB of annotations: the chunk's step data is cut at 32 MiB (a 64 MiB zero bomb here).
    {
      name: 'multi-agent: 64 agents of 1024 actions, 4096 steps, step data inflating to 64 MiB',
      bytes: episode([header3(64, 1024, { keyframeInterval: K }), chunk(0, { K, frames: K, steps: K, frameData: deflate(new Uint8Array(K * 8 * 8 * 3)), stepData: zeroBomb(1 << 26) }), chunk(1, { K, frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(agentStepBlock(0, 64)) }), end(K, 2)]),
      expect: 'EpisodeFormatError',
    },
    // 3 chunks of 128 steps x 65,536 actions in all: over MAX_ANNOTATION_VALUES, refused before the arrays are allocated.
    { name: 'multi-agent: 64 agents of 1024 actions, 384 steps of Q-values', bytes: multiAgent(64, 1024, 128, true, 3), expect: 'EpisodeFormatError' },
    { name: 'multi-agent: 65 agents', bytes: multiAgent(65, 2, 4, false), expect: 'EpisodeFormatError' },
    { name: 'Box actions with a NaN value', bytes: episode2(header2(BOX2), { actionBytes: 4, actions: f32([0, 0, 1, NaN, 0, 0, 0, 0]) }), expect: 'EpisodeFormatError' },
    { name: 'Box actions with an infinite value', bytes: episode2(header2(BOX2), { actionBytes: 4, actions: f32([0, 0, 1, 0, Infinity, 0, 0, 0]) }), expect: 'EpisodeFormatError' },
    { name: 'Box actions one value short', bytes: episode2(header2(BOX2), { actionBytes: 4, actions: f32([0, 0, 1, 0, 0, 0, 0]) }), expect: 'EpisodeFormatError' },
    { name: 'Box actions stored as uint8', bytes: episode2(header2(BOX2), { actionBytes: 1, actions: new Uint8Array(8) }), expect: 'EpisodeFormatError' },
    { name: 'Box actions as a string', bytes: episode2(header2(BOX2), { actionBytes: 4, actions: 'x'.repeat(32) }), expect: 'EpisodeFormatError' },
    { name: 'MultiDiscrete action part out of range', bytes: episode2(header2(TANK), { actionBytes: 1, actions: Uint8Array.of(0, 0, 0, 4, 2, 1, 1, 3, 0, 0, 0, 0) }), expect: 'EpisodeFormatError' },
    { name: 'MultiDiscrete actions of 2 parts for 3', bytes: episode2(header2(TANK), { actionBytes: 1, actions: new Uint8Array(8) }), expect: 'EpisodeFormatError' },
    { name: 'a Box action space of 1e6 x 1e6 elements', bytes: smallEpisode({ version: 2, actionSpace: { type: 'Box', shape: [1e6, 1e6], dtype: 'float32', low: [0], high: [1] } }), expect: 'EpisodeFormatError' },
    { name: 'a MultiDiscrete action space of 100000 parts', bytes: smallEpisode({ version: 2, actionSpace: { type: 'MultiDiscrete', nvec: new Array(100_000).fill(2) } }), expect: 'EpisodeFormatError' },
    { name: 'version 2 with Discrete actions', bytes: smallEpisode({ version: 2 }), expect: 'EpisodeFormatError' },
    { name: '1024 Box values x 20480 steps', bytes: wideBox(), expect: 'EpisodeFormatError' },
    { name: 'a header of 4 million one-byte values', bytes: smallEpisode({ meta: { x: new Array(4_000_000).fill(0) } }), expect: 'EpisodeFormatError' },
    { name: '65536 action names', bytes: smallEpisode({ actionNames: Array.from({ length: 65536 }, (_, i) => `a${i}`) }), expect: 'EpisodeFormatError' },
    { name: 'an action name of 100k characters', bytes: smallEpisode({ actionNames: ['x'.repeat(100_000)] }), expect: 'EpisodeFormatError' },
    { name: 'frames of 65536x65536 pixels', bytes: smallEpisode({ frameWidth: 65536, frameHeight: 65536 }), expect: 'EpisodeFormatError' },
    { name: 'chunks of 4096 frames of 4096x4096 (over 2 GiB)', bytes: smallEpisode({ frameWidth: 4096, frameHeight: 4096, keyframeInterval: 4096 }), expect: 'EpisodeFormatError' },
    { name: 'game options rows 1e9, cellSize 1e6 (verify)', bytes: smallEpisode({ game: { id: 'catch', options: { rows: 1e9, cellSize: 1e6 }, maxEpisodeSteps: null } }), expect: 'InvalidConfigError', verify: true },
    { name: 'game options nested', bytes: smallEpisode({ game: { id: 'catch', options: { rows: { length: 1e9 } }, maxEpisodeSteps: null } }), expect: 'EpisodeFormatError' },
    {
      name: 'frame chunk inflating to 1 GiB (valid CRC)',
      bytes: episode([header(), chunk(0, { frames: 4, steps: 4, frameData: zeroBomb(1 << 30), stepData: deflate(stepBlock(4)) }), chunk(1, { frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(stepBlock(0)) }), end(4, 2)]),
      expect: 'EpisodeFormatError',
    },
    {
      name: 'step data inflating to 1 GiB (valid CRC)',
      bytes: episode([header(), chunk(0, { frames: 4, steps: 4, frameData: frames8(4), stepData: zeroBomb(1 << 30) }), chunk(1, { frames: 1, steps: 0, frameData: frames8(1), stepData: deflate(stepBlock(0)) }), end(4, 2)]),
      expect: 'EpisodeFormatError',
    },
    { name: '1024 actions x 20480 steps of zeroed Q-data', bytes: annotated(1024, 5), expect: 'EpisodeFormatError' },
    { name: 'more than 2^22 steps', bytes: manySteps(), expect: 'EpisodeFormatError' },
    {
      name: 'more than 2^16 chunks of one step',
      bytes: episode([header({ keyframeInterval: 1 }), ...Array.from({ length: (1 << 16) + 1 }, (_, i) => chunk(i, { K: 1, frames: 1, steps: 1, frameData: frames8(1), stepData: deflate(stepBlock(1)) }))]),
      expect: 'EpisodeFormatError',
    },
  ];
}
