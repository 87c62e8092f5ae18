/**
 * Episode encoder: turns a stream of frames and steps into `.npcep` records (msgpack values).
 * Browser-safe and sink-agnostic: each finished record is handed to `onRecord`, so a Node writer can
 * append it to a file as soon as a chunk is complete.
 */
import { Packr } from 'msgpackr';
import { deflateSync } from 'fflate';
import { InvalidConfigError, SpaceMismatchError, ResetNeededError, formatError, describe } from '../../errors.js';
import type { RgbFrame } from '../../envs/env.js';
import { frameSizeProblem } from '../../envs/frame-limits.js';
import {
  ANNOTATION_FIELDS,
  ANNOTATION_LEVELS,
  autoKeyframeInterval,
  DISCRETE_EPISODE_VERSION,
  EPISODE_FORMAT,
  EPISODE_VERSION,
  MAX_ACTIONS,
  MAX_CHUNK_FRAME_BYTES,
  MAX_CHUNKS,
  MAX_EPISODE_STEPS,
  MAX_KEYFRAME_INTERVAL,
  MAX_NAME_LENGTH,
  MAX_AGENTS,
  MAX_AGENT_STEP_VALUES,
  MAX_AGENT_CHUNK_STEP_BYTES,
  MULTI_AGENT_EPISODE_VERSION,
  ACTED_FLAG,
  agentsProblem,
  chunkFrameBytes,
  PALETTE_CAPACITY,
  crc32,
  detectBlockSize,
  episodeActionLayout,
  type AnnotationField,
  type AgentStepBlock,
  type EpisodeAgent,
  type EpisodeActionLayout,
  type ChunkMode,
  type EpisodeChunk,
  type EpisodeEnd,
  type EpisodeHeader,
  type QuantisedField,
  type StepAnnotation,
  type StepBlock,
} from './format.js';
import { encodeObservationPlanes, observationToBytes, observationsOf, observationsProblem, type EpisodeObservations } from './observations.js';

/** Everything known when an episode starts (the header minus what the encoder fills in). */
export type EpisodeStart = Omit<EpisodeHeader, 'format' | 'version' | 'kind' | 'frameWidth' | 'frameHeight' | 'keyframeInterval' | 'meta' | 'createdAt' | 'observations'> & {
  meta?: Record<string, unknown>;
  /** Defaults to now. */
  createdAt?: string;
};

/**
 * The action of one step: an integer for Discrete action spaces, one integer per part for
 * MultiDiscrete, one number per element for Box (stored as float32).
 */
export type EpisodeAction = number | ArrayLike<number>;

/** One environment step as recorded. */
export interface RecordedStep {
  action: EpisodeAction;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** The frame rendered after the step. */
  frame: RgbFrame;
  annotation?: StepAnnotation;
  /** The observation returned by the step: required when `begin` was given one, else ignored. */
  obs?: ArrayLike<number>;
}

/**
 * One step of a multi-agent game as recorded (`EpisodeEncoder.stepAgents`): the dicts the game's
 * `step` took and returned. `actions` holds exactly the agents that were live (every agent at the
 * first step; an agent is live until a step returns it terminated or truncated).
 */
export interface MultiAgentRecordedStep {
  actions: Record<string, number>;
  rewards: Record<string, number>;
  terminated: Record<string, boolean>;
  truncated: Record<string, boolean>;
  /** The frame rendered after the step. */
  frame: RgbFrame;
  /** What each agent's policy thought, where known. */
  annotations?: Record<string, StepAnnotation | undefined>;
}

export interface EpisodeEncoderOptions {
  /**
   * Frames per chunk: a seek decodes at most this many frames. Default 'auto': 64 for small or
   * blocky frames (grid games), fewer for large pixel frames (at least 8), see autoKeyframeInterval.
   */
  keyframeInterval?: number | 'auto';
  /** Deflate level 0-9 (default 9). */
  compressionLevel?: number;
  /** Receives every finished record, in order. */
  onRecord: (bytes: Uint8Array) => void;
}

export const DEFAULT_COMPRESSION_LEVEL = 9;

const packr = new Packr({ useRecords: false, variableMapSize: true });

interface PendingStep {
  /** The index (Discrete), or a copy of the row: the caller may reuse its array before the chunk is encoded. */
  action: number | Int32Array | Float32Array;
  reward: number;
  flags: number;
  annotation?: StepAnnotation;
  /** Multi-agent episodes: every agent's row (agent i at index i, in header order). */
  agents?: { actions: Int32Array; rewards: Float64Array; flags: Uint8Array; annotations: Array<StepAnnotation | undefined> };
}

/** Streams one episode into records; call begin, step..., finish. */
export class EpisodeEncoder {
  private K = 0;
  private readonly requestedK: number | 'auto';
  private readonly level: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  private readonly onRecord: (bytes: Uint8Array) => void;
  private state: 'fresh' | 'open' | 'done' = 'fresh';
  private width = 0;
  private height = 0;
  private nActions = 0;
  private layout: EpisodeActionLayout = { kind: 'discrete', width: 1 };
  private frames: Uint8Array[] = [];
  private steps: PendingStep[] = [];
  private chunkIndex = 0;
  private frameCount = 0;
  private stepCount = 0;
  private totalReward = 0;
  private lastFlags = 0;
  private readonly paletteIndex = new Map<number, number>();
  /** Multi-agent episodes: the agents in header order, the primary agent's index and who is live. */
  private agents: EpisodeAgent[] | null = null;
  private primary = 0;
  private live: boolean[] = [];
  /** With observations: their layout, and the stored bytes of each buffered frame's observation. */
  private observations: EpisodeObservations | null = null;
  private obsRows: Uint8Array[] = [];

  constructor(options: EpisodeEncoderOptions) {
    const { keyframeInterval = 'auto', compressionLevel = DEFAULT_COMPRESSION_LEVEL, onRecord } = options;
    const errors: string[] = [];
    if (keyframeInterval !== 'auto' && (!Number.isInteger(keyframeInterval) || keyframeInterval < 1 || keyframeInterval > MAX_KEYFRAME_INTERVAL)) errors.push(`keyframeInterval=${describe(keyframeInterval)} ('auto' or an integer in [1, ${MAX_KEYFRAME_INTERVAL}])`);
    if (!Number.isInteger(compressionLevel) || compressionLevel < 0 || compressionLevel > 9) errors.push(`compressionLevel=${describe(compressionLevel)} (integer in [0, 9])`);
    if (typeof onRecord !== 'function') errors.push(`onRecord=${describe(onRecord)} (a function)`);
    if (errors.length) throw new InvalidConfigError(formatError('EpisodeEncoder', 'valid options', errors.join(', '), 'fix the listed fields'));
    this.requestedK = keyframeInterval;
    this.level = compressionLevel as EpisodeEncoder['level'];
    this.onRecord = onRecord;
  }

  /**
   * Writes the header; `firstFrame` is the frame rendered right after reset. With `firstObs` (the
   * observation reset returned) the episode also stores every frame's observation, and every
   * `step` must then pass its `obs` (single-agent episodes with a Box observation space).
   */
  begin(start: EpisodeStart, firstFrame: RgbFrame, firstObs?: ArrayLike<number>): void {
    if (this.state !== 'fresh') throw new ResetNeededError(formatError('EpisodeEncoder.begin', 'a fresh encoder', `an encoder that is ${this.state}`, 'make one encoder per episode'));
    const { width, height } = firstFrame;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || frameSizeProblem(width, height)) {
      throw new SpaceMismatchError(formatError('EpisodeEncoder.begin', 'a frame within the format limits', `${describe(width)}x${describe(height)}`, 'render() must return a positive integer size of at most 4096x4096'));
    }
    if (!Array.isArray(start.actionNames) || start.actionNames.length < 1 || start.actionNames.length > MAX_ACTIONS || !start.actionNames.every((a) => typeof a === 'string' && a.length <= MAX_NAME_LENGTH)) {
      throw new InvalidConfigError(formatError('EpisodeEncoder.begin', `1 to ${MAX_ACTIONS} action names of at most ${MAX_NAME_LENGTH} characters`, describe(start.actionNames), 'pass env.spec.actionNames'));
    }
    if (start.agents !== undefined) {
      const problem = agentsProblem(start.agents, start.learner ?? null);
      if (problem) throw new InvalidConfigError(formatError('EpisodeEncoder.begin', problem, describe(start.agents), "pass one entry per possible agent: { name, actionNames, actionSpace, observationSpace, controller } (Discrete actions)"));
      this.agents = start.agents.map((a) => ({ ...a, actionNames: [...a.actionNames] }));
      const learner = start.learner ?? null;
      this.primary = learner === null ? 0 : this.agents.findIndex((a) => a.name === learner);
      this.live = this.agents.map(() => true);
      // The base fields describe the primary agent, so single-agent readers of the header see the learner.
      const p = this.agents[this.primary]!;
      start = { ...start, learner, actionNames: p.actionNames, actionSpace: p.actionSpace, observationSpace: p.observationSpace };
    }
    const layout = episodeActionLayout(start.actionSpace);
    if (typeof layout === 'string') {
      throw new InvalidConfigError(formatError('EpisodeEncoder.begin', layout, describe(start.actionSpace), 'record a game with Discrete, MultiDiscrete or float32 Box actions'));
    }
    this.layout = layout;
    this.width = width;
    this.height = height;
    this.K = this.requestedK === 'auto' ? autoKeyframeInterval(firstFrame.data, width, height) : this.requestedK;
    if (chunkFrameBytes(this.K, width, height) > MAX_CHUNK_FRAME_BYTES) {
      throw new InvalidConfigError(formatError('EpisodeEncoder.begin', `keyframeInterval x width x height x 3 <= ${MAX_CHUNK_FRAME_BYTES} (frame bytes per chunk)`, `${this.K} x ${width}x${height}`, "use keyframeInterval 'auto' or a smaller one"));
    }
    this.nActions = start.actionNames.length;
    if (firstObs !== undefined) {
      const o = start.agents ? 'a single-agent episode (multi-agent episodes store no observations)' : observationsOf(firstObs, start.observationSpace);
      const problem = typeof o === 'string' ? o : observationsProblem(o, this.K);
      if (problem) throw new InvalidConfigError(formatError('EpisodeEncoder.begin', problem, describe(firstObs), 'record without observations (they are only needed for saliency)'));
      this.observations = o as EpisodeObservations;
    }
    const header: EpisodeHeader = {
      format: EPISODE_FORMAT,
      version: this.agents ? MULTI_AGENT_EPISODE_VERSION : layout.kind === 'discrete' ? DISCRETE_EPISODE_VERSION : EPISODE_VERSION,
      kind: 'header',
      game: start.game,
      seed: start.seed,
      resetOptions: start.resetOptions,
      stateBeforeReset: start.stateBeforeReset,
      stateAtReset: start.stateAtReset,
      actionNames: start.actionNames,
      observationSpace: start.observationSpace,
      actionSpace: start.actionSpace,
      frameWidth: width,
      frameHeight: height,
      keyframeInterval: this.K,
      meta: start.meta ?? {},
      createdAt: start.createdAt ?? new Date().toISOString(),
      ...(this.agents ? { agents: this.agents, learner: start.learner ?? null } : {}),
      ...(this.observations ? { observations: this.observations } : {}),
    };
    this.state = 'open';
    this.pushFrame(firstFrame);
    if (this.observations) this.pushObs(firstObs!, 'EpisodeEncoder.begin');
    this.onRecord(packr.pack(header));
  }

  /** Adds one step and the frame rendered after it; emits a chunk every `keyframeInterval` steps. */
  step(s: RecordedStep): void {
    if (this.state !== 'open') throw new ResetNeededError(formatError('EpisodeEncoder.step', 'begin() before step()', `an encoder that is ${this.state}`, 'call begin() first; make one encoder per episode'));
    if (this.agents) throw new InvalidConfigError(formatError('EpisodeEncoder.step', 'stepAgents() for a multi-agent episode', 'step()', 'call stepAgents() with every agent\'s action, reward and flags'));
    const action = this.checkAction(s.action);
    if (typeof s.reward !== 'number' || !Number.isFinite(s.reward)) throw new InvalidConfigError(formatError('EpisodeEncoder.step', 'a finite reward', describe(s.reward), 'check the env reward'));
    if (s.annotation) this.checkAnnotation(s.annotation);
    const maxSteps = Math.min(MAX_EPISODE_STEPS, MAX_CHUNKS * this.K - 1);
    if (this.stepCount >= maxSteps) throw new InvalidConfigError(formatError('EpisodeEncoder.step', `at most ${maxSteps} steps per episode (${MAX_EPISODE_STEPS} steps, ${MAX_CHUNKS} chunks of ${this.K})`, 'one more', 'end the episode (a time limit) before it reaches the format limit, or record with a larger keyframeInterval'));
    if (this.observations) this.pushObs(s.obs, 'EpisodeEncoder.step');
    this.pushFrame(s.frame);
    const flags = (s.terminated ? 1 : 0) | (s.truncated ? 2 : 0);
    this.steps.push({ action, reward: s.reward, flags, annotation: s.annotation });
    this.stepCount++;
    this.totalReward += s.reward;
    this.lastFlags = flags;
    if (this.steps.length === this.K) this.flush(this.K);
  }

  /**
   * Adds one step of a multi-agent episode (begun with `agents`) and the frame rendered after it.
   * Refuses a step whose actions are not exactly the live agents', an action outside its agent's
   * actions, a missing or non-finite reward: what the reader would refuse.
   */
  stepAgents(s: MultiAgentRecordedStep): void {
    const where = 'EpisodeEncoder.stepAgents';
    if (this.state !== 'open') throw new ResetNeededError(formatError(where, 'begin() before stepAgents()', `an encoder that is ${this.state}`, 'call begin() first; make one encoder per episode'));
    const agents = this.agents;
    if (!agents) throw new InvalidConfigError(formatError(where, 'an episode begun with agents (multi-agent)', 'a single-agent episode', 'call step(), or pass agents to begin()'));
    const A = agents.length;
    const liveNames = agents.filter((_, i) => this.live[i]).map((a) => a.name);
    const given = s && typeof s.actions === 'object' && s.actions !== null ? Object.keys(s.actions) : [];
    if (given.length !== liveNames.length || !liveNames.every((n) => Object.hasOwn(s.actions, n))) {
      throw new InvalidConfigError(formatError(where, `actions for the live agents ${liveNames.join(', ') || '(none: the episode is over)'}`, `actions for ${given.map((n) => describe(n)).join(', ') || 'none'}`, 'pass the action dict the game stepped with'));
    }
    if (liveNames.length === 0) throw new InvalidConfigError(formatError(where, 'a live agent', 'a step after every agent was done', 'finish() the episode'));
    const maxSteps = Math.min(MAX_EPISODE_STEPS, MAX_CHUNKS * this.K - 1, Math.floor(MAX_AGENT_STEP_VALUES / A));
    if (this.stepCount >= maxSteps) throw new InvalidConfigError(formatError(where, `at most ${maxSteps} steps per episode of ${A} agents`, 'one more', 'end the episode (a step limit) before it reaches the format limit'));
    const row = { actions: new Int32Array(A), rewards: new Float64Array(A), flags: new Uint8Array(A), annotations: new Array<StepAnnotation | undefined>(A) };
    agents.forEach((a, i) => {
      if (!this.live[i]) return;
      const act = s.actions[a.name];
      const n = a.actionNames.length;
      if (!Number.isInteger(act) || act! < 0 || act! >= n) throw new InvalidConfigError(formatError(where, `an action of ${a.name} in [0, ${n})`, describe(act), 'pass the action dict the game stepped with'));
      const reward = s.rewards?.[a.name];
      if (typeof reward !== 'number' || !Number.isFinite(reward)) throw new InvalidConfigError(formatError(where, `a finite reward for ${a.name}`, describe(reward), 'pass the rewards dict the game returned'));
      const ann = s.annotations?.[a.name];
      if (ann) this.checkAnnotation(ann, n);
      const term = s.terminated?.[a.name] === true;
      const trunc = s.truncated?.[a.name] === true;
      row.actions[i] = act!;
      row.rewards[i] = reward;
      row.flags[i] = ACTED_FLAG | (term ? 1 : 0) | (trunc ? 2 : 0);
      row.annotations[i] = ann;
    });
    this.pushFrame(s.frame);
    // Agents done at this step act no more (the multi-agent contract).
    agents.forEach((_, i) => {
      if (row.flags[i]! & 3) this.live[i] = false;
    });
    const p = this.primary;
    this.steps.push({ action: row.actions[p]!, reward: row.rewards[p]!, flags: row.flags[p]! & 3, annotation: row.annotations[p], agents: row });
    this.stepCount++;
    this.totalReward += row.rewards[p]!;
    this.lastFlags = row.flags[p]! & 3;
    if (this.steps.length === this.K) this.flush(this.K);
  }

  /** Writes the last chunk and the end record. */
  finish(): EpisodeEnd {
    if (this.state !== 'open') throw new ResetNeededError(formatError('EpisodeEncoder.finish', 'an open episode', `an encoder that is ${this.state}`, 'call begin() first; finish() once'));
    this.flush(this.frames.length);
    const end: EpisodeEnd = {
      kind: 'end',
      steps: this.stepCount,
      frames: this.frameCount,
      chunks: this.chunkIndex,
      return: this.totalReward,
      terminated: (this.lastFlags & 1) !== 0,
      truncated: (this.lastFlags & 2) !== 0,
    };
    this.onRecord(packr.pack(end));
    this.state = 'done';
    return end;
  }

  /** Frames per chunk of this episode (known after begin()). */
  get keyframeInterval(): number {
    return this.K;
  }

  /** Steps recorded so far. */
  get stepsRecorded(): number {
    return this.stepCount;
  }

  private pushFrame(frame: RgbFrame): void {
    if (frame.width !== this.width || frame.height !== this.height || frame.data.length !== this.width * this.height * 3) {
      throw new SpaceMismatchError(formatError('EpisodeEncoder', `an RGB frame of ${this.width}x${this.height} (${this.width * this.height * 3} bytes)`, `${describe(frame.width)}x${describe(frame.height)} with ${describe(frame.data)}`, 'every frame of an episode must have the same size'));
    }
    // render() may reuse its buffer: keep a copy until the chunk is encoded.
    this.frames.push(frame.data.slice());
    this.frameCount++;
  }

  /** Buffers the stored bytes of one frame's observation (a copy: the env may reuse its array). */
  private pushObs(obs: ArrayLike<number> | undefined, where: string): void {
    const o = this.observations!;
    const n = o.shape.reduce((a, b) => a * b, 1);
    if (typeof obs !== 'object' || obs === null || obs.length !== n) {
      throw new SpaceMismatchError(formatError(where, `an observation of ${n} values (the episode stores observations)`, describe(obs), 'pass the obs the env returned with every step'));
    }
    this.obsRows.push(observationToBytes(obs, o));
  }

  /** The step's action as stored (a copy of a row), or a named error when it does not fit the action space. */
  private checkAction(a: EpisodeAction): number | Int32Array | Float32Array {
    const L = this.layout;
    if (L.kind === 'discrete') {
      if (!Number.isInteger(a)) throw new InvalidConfigError(formatError('EpisodeEncoder.step', 'an integer action (Discrete action space)', describe(a), 'pass the action index the env received'));
      return a as number;
    }
    const row = a as ArrayLike<number>;
    if (typeof a !== 'object' || a === null || typeof row.length !== 'number' || row.length !== L.width) {
      throw new InvalidConfigError(formatError('EpisodeEncoder.step', `an action of ${L.width} ${L.kind === 'box' ? 'numbers (Box' : 'integers (MultiDiscrete'} action space)`, describe(a), 'pass the action row the env received'));
    }
    if (L.kind === 'box') {
      const out = Float32Array.from(row);
      for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new InvalidConfigError(formatError('EpisodeEncoder.step', 'finite Box action values', `${describe(row[i])} at element ${i}`, 'check the agent output for NaN'));
      return out;
    }
    const out = new Int32Array(L.width);
    for (let i = 0; i < L.width; i++) {
      const v = row[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= L.nvec![i]!) throw new InvalidConfigError(formatError('EpisodeEncoder.step', `part ${i} of the action in [0, ${L.nvec![i]})`, describe(v), 'pass the action row the env received'));
      out[i] = v;
    }
    return out;
  }

  private checkAnnotation(a: StepAnnotation, nActions = this.nActions): void {
    for (const f of ['q', 'probs'] as const) {
      const v = a[f];
      if (v === undefined) continue;
      if (typeof v.length !== 'number' || v.length !== nActions) throw new InvalidConfigError(formatError('EpisodeEncoder.step', `annotation.${f} with one value per action (${nActions})`, describe(v), 'pass the agent info for this step'));
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new InvalidConfigError(formatError('EpisodeEncoder.step', `finite annotation.${f} values`, describe(v[i]), 'check the agent output for NaN'));
    }
    if (a.value !== undefined && !Number.isFinite(a.value)) throw new InvalidConfigError(formatError('EpisodeEncoder.step', 'a finite annotation.value', describe(a.value), 'check the agent output for NaN'));
  }

  /** Encodes the first `nFrames` buffered frames with the buffered steps into one chunk record. */
  private flush(nFrames: number): void {
    const frames = this.frames.slice(0, nFrames);
    const steps = this.steps;
    const { mode, block: frameBlock, palette, planes } = this.encodeFrames(frames);
    const frameData = deflateSync(planes, { level: this.level });
    const block = this.agents ? encodeAgentSteps(steps, this.agents.map((a) => a.actionNames.length)) : encodeSteps(steps, this.nActions, this.layout);
    const packed = packr.pack(block);
    if (this.agents && packed.length > MAX_AGENT_CHUNK_STEP_BYTES) {
      throw new InvalidConfigError(formatError('EpisodeEncoder', `at most ${MAX_AGENT_CHUNK_STEP_BYTES} bytes of step data per multi-agent chunk`, `${packed.length} (${steps.length} steps of ${this.agents.length} agents)`, "record with keyframeInterval 'auto' or a smaller one"));
    }
    const stepData = deflateSync(packed, { level: this.level });
    const chunk: EpisodeChunk = {
      kind: 'chunk',
      index: this.chunkIndex,
      firstFrame: this.chunkIndex * this.K,
      frames: frames.length,
      steps: steps.length,
      mode,
      block: frameBlock,
      palette,
      frameData,
      stepData,
      crc: crc32(frameData, stepData),
    };
    if (this.observations) {
      const obsData = deflateSync(encodeObservationPlanes(this.obsRows.slice(0, nFrames)), { level: this.level });
      chunk.obsData = obsData;
      chunk.obsCrc = crc32(obsData);
      this.obsRows = this.obsRows.slice(nFrames);
    }
    this.onRecord(packr.pack(chunk));
    this.chunkIndex++;
    this.frames = this.frames.slice(nFrames);
    this.steps = [];
  }

  private encodeFrames(frames: Uint8Array[]): { mode: ChunkMode; block: number; palette: Uint8Array; planes: Uint8Array } {
    const w = this.width;
    const h = this.height;
    const block = detectBlockSize(frames, w, h, 3);
    const sw = w / block;
    const sh = h / block;
    const small = block === 1 ? frames : frames.map((f) => downscale(f, w, sw, sh, block));
    // Palette: colours new to the episode; the chunk is indexed when they still fit.
    const added: number[] = [];
    const seen = new Set<number>();
    let fits = true;
    for (const f of small) {
      let last = -1;
      for (let i = 0; i < f.length && fits; i += 3) {
        const key = (f[i]! << 16) | (f[i + 1]! << 8) | f[i + 2]!;
        if (key === last) continue;
        last = key;
        if (this.paletteIndex.has(key) || seen.has(key)) continue;
        seen.add(key);
        added.push(key);
        if (this.paletteIndex.size + added.length > PALETTE_CAPACITY) fits = false;
      }
      if (!fits) break;
    }
    const n = sw * sh;
    if (!fits) {
      const planes = new Uint8Array(small.length * n * 3);
      small.forEach((f, k) => {
        const off = k * n * 3;
        if (k === 0) planes.set(f, off);
        else {
          const prev = small[k - 1]!;
          for (let i = 0; i < f.length; i++) planes[off + i] = f[i]! ^ prev[i]!;
        }
      });
      return { mode: 'rgb', block, palette: new Uint8Array(0), planes };
    }
    const palette = new Uint8Array(added.length * 3);
    added.forEach((key, i) => {
      this.paletteIndex.set(key, this.paletteIndex.size);
      palette[i * 3] = key >> 16;
      palette[i * 3 + 1] = (key >> 8) & 255;
      palette[i * 3 + 2] = key & 255;
    });
    const planes = new Uint8Array(small.length * n);
    const prevIdx = new Uint8Array(n);
    small.forEach((f, k) => {
      const off = k * n;
      let lastKey = -1;
      let lastIdx = 0;
      for (let p = 0; p < n; p++) {
        const key = (f[p * 3]! << 16) | (f[p * 3 + 1]! << 8) | f[p * 3 + 2]!;
        if (key !== lastKey) {
          lastKey = key;
          lastIdx = this.paletteIndex.get(key)!;
        }
        planes[off + p] = k === 0 ? lastIdx : lastIdx ^ prevIdx[p]!;
        prevIdx[p] = lastIdx;
      }
    });
    return { mode: 'indexed', block, palette, planes };
  }
}

function downscale(f: Uint8Array, w: number, sw: number, sh: number, block: number): Uint8Array {
  const out = new Uint8Array(sw * sh * 3);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const src = (y * block * w + x * block) * 3;
      const dst = (y * sw + x) * 3;
      out[dst] = f[src]!;
      out[dst + 1] = f[src + 1]!;
      out[dst + 2] = f[src + 2]!;
    }
  }
  return out;
}

/** Smallest and largest action value of the chunk (integer layouts). */
function actionRange(steps: PendingStep[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of steps) {
    if (typeof s.action === 'number') {
      lo = Math.min(lo, s.action);
      hi = Math.max(hi, s.action);
    } else for (const v of s.action) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  }
  return [lo, hi];
}

function encodeSteps(steps: PendingStep[], nActions: number, layout: EpisodeActionLayout): StepBlock {
  const n = steps.length;
  const w = layout.width;
  // Narrowest widths that hold the chunk exactly: most games have < 256 actions and small rewards.
  // Box actions are float32, 4 bytes.
  const [lo, hi] = actionRange(steps);
  const actionBytes = layout.kind === 'box' ? 4 : n === 0 || (lo >= 0 && hi < 256) ? 1 : lo >= 0 && hi < 65536 ? 2 : 4;
  const rewardBytes = steps.every((s) => Math.fround(s.reward) === s.reward) ? 4 : 8;
  const actions = new Uint8Array(n * w * actionBytes);
  const rewards = new Uint8Array(n * rewardBytes);
  const flags = new Uint8Array(n);
  const av = new DataView(actions.buffer);
  const rv = new DataView(rewards.buffer);
  const put = (j: number, v: number): void => {
    if (layout.kind === 'box') av.setFloat32(j * 4, v, true);
    else if (actionBytes === 1) actions[j] = v;
    else if (actionBytes === 2) av.setUint16(j * 2, v, true);
    else av.setInt32(j * 4, v, true);
  };
  steps.forEach((s, i) => {
    if (typeof s.action === 'number') put(i, s.action);
    else for (let k = 0; k < w; k++) put(i * w + k, s.action[k]!);
    if (rewardBytes === 4) rv.setFloat32(i * 4, s.reward, true);
    else rv.setFloat64(i * 8, s.reward, true);
    flags[i] = s.flags;
  });
  const block: StepBlock = { actionBytes, actions, rewardBytes, rewards, flags };
  const annotations = steps.map((s) => s.annotation);
  for (const field of ANNOTATION_FIELDS) {
    const q = quantise(annotations, field, field === 'value' ? 1 : nActions);
    if (q) block[field] = q;
  }
  return block;
}

/** The step block of a multi-agent chunk: every agent-step's action, reward and flags, each agent's annotations. */
function encodeAgentSteps(steps: PendingStep[], actionCounts: number[]): AgentStepBlock {
  const A = actionCounts.length;
  const n = steps.length;
  let hi = 0;
  for (const s of steps) for (const a of s.agents!.actions) hi = Math.max(hi, a);
  const actionBytes = hi < 256 ? 1 : hi < 65536 ? 2 : 4;
  const rewardBytes = steps.every((s) => s.agents!.rewards.every((r) => Math.fround(r) === r)) ? 4 : 8;
  const actions = new Uint8Array(n * A * actionBytes);
  const rewards = new Uint8Array(n * A * rewardBytes);
  const flags = new Uint8Array(n * A);
  const av = new DataView(actions.buffer);
  const rv = new DataView(rewards.buffer);
  steps.forEach((s, t) => {
    const row = s.agents!;
    for (let i = 0; i < A; i++) {
      const j = t * A + i;
      const a = row.actions[i]!;
      if (actionBytes === 1) actions[j] = a;
      else if (actionBytes === 2) av.setUint16(j * 2, a, true);
      else av.setInt32(j * 4, a, true);
      if (rewardBytes === 4) rv.setFloat32(j * 4, row.rewards[i]!, true);
      else rv.setFloat64(j * 8, row.rewards[i]!, true);
      flags[j] = row.flags[i]!;
    }
  });
  const agents = actionCounts.map((nA, i) => {
    const annotations = steps.map((s) => s.agents!.annotations[i]);
    const out: AgentStepBlock['agents'][number] = {};
    for (const field of ANNOTATION_FIELDS) {
      const q = quantise(annotations, field, field === 'value' ? 1 : nA);
      if (q) out[field] = q;
    }
    return out;
  });
  return { actionBytes, actions, rewardBytes, rewards, flags, agents };
}

function fieldValues(a: StepAnnotation | undefined, field: AnnotationField): ArrayLike<number> | undefined {
  if (!a) return undefined;
  if (field === 'value') return a.value === undefined ? undefined : [a.value];
  return a[field];
}

/** 12-bit quantisation over the chunk's range; components delta-coded so that deflate finds runs. */
function quantise(steps: Array<StepAnnotation | undefined>, field: AnnotationField, width: number): QuantisedField | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  let count = 0;
  for (const s of steps) {
    const v = fieldValues(s, field);
    if (!v) continue;
    count++;
    for (let i = 0; i < width; i++) {
      lo = Math.min(lo, v[i]!);
      hi = Math.max(hi, v[i]!);
    }
  }
  if (count === 0) return undefined;
  const scale = hi > lo ? (hi - lo) / ANNOTATION_LEVELS : 0;
  const data = new Uint8Array(steps.length * width * 2);
  const dv = new DataView(data.buffer);
  const prev = new Uint16Array(width);
  const present = count === steps.length ? undefined : new Uint8Array(steps.length);
  steps.forEach((s, t) => {
    const v = fieldValues(s, field);
    if (present) present[t] = v ? 1 : 0;
    for (let i = 0; i < width; i++) {
      const q = v && scale > 0 ? Math.min(ANNOTATION_LEVELS, Math.max(0, Math.round((v[i]! - lo) / scale))) : 0;
      dv.setUint16((t * width + i) * 2, (q - prev[i]!) & 0xffff, true);
      prev[i] = q;
    }
  });
  const out: QuantisedField = { width, lo, scale, data };
  if (present) out.present = present;
  return out;
}

/** Encodes a whole episode in memory (tests, small tools). `frames[0]` is the frame after reset. */
export function encodeEpisode(start: EpisodeStart, firstFrame: RgbFrame, steps: Array<RecordedStep | MultiAgentRecordedStep>, options: Omit<EpisodeEncoderOptions, 'onRecord'> = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new EpisodeEncoder({ ...options, onRecord: (b) => parts.push(b) });
  enc.begin(start, firstFrame);
  // Multi-agent episodes (begun with agents) take MultiAgentRecordedSteps.
  for (const s of steps) if (start.agents) enc.stepAgents(s as MultiAgentRecordedStep);
  else enc.step(s as RecordedStep);
  enc.finish();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
