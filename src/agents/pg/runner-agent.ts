/**
 * The policy-gradient agents behind the runner's generic `Agent` contract (src/agents/agent.ts):
 * `act` during training draws from the policy and remembers what the rollout needs, `observe`
 * files the step and runs the update once `numSteps` steps per env are in. The training
 * recurrent state lives here (reset by the episode ends `observe` sees); evaluation threads its
 * own state through `act(obs, options, state)` with `options.episodeStarts`.
 *
 * Box actions go to the envs clipped to the bounds (`clipToBox`), the rollout keeps the unclipped
 * sample, and the number of clipped values since the last update is the `clipped_actions` metric.
 * With `normObs`/`normReward` the agent normalises what the runner hands it (statistics updated
 * by training steps only, frozen in evaluation, saved in the snapshot).
 */
import type { Agent, ActOptions, ActResult, AgentSnapshot, StepBatch, UpdateMetrics } from '../agent.js';
import type { ObsArray } from '../../envs/env.js';
import type { ActionBatch } from '../../envs/actions.js';
import type { Space } from '../../envs/spaces.js';
import { PolicyGradientAgent, newActions, type PgActions, type PgAgentSnapshot, type RecurrentState, type Rollout, type PgUpdateMetrics } from './agent.js';
import { clipToBox } from '../policy/distributions.js';
import { RewardScaler, RunningMeanStd, normalizeObs, type RewardScalerState, type RunningMeanStdState } from './normalize.js';
import type { PgConfig } from './config.js';

/** Recurrent state handed out by `act` in evaluation (opaque to the runner). */
export interface PgEvalState {
  state: RecurrentState | null;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Adapts PolicyGradientAgent to the runner. `annealSteps` = env steps over which lr anneals. */
export class PgRunnerAgent implements Agent {
  readonly kind: string;
  readonly pg: PolicyGradientAgent;
  private readonly numEnvs: number;
  private readonly annealSteps: number;
  private readonly rollout: Rollout;
  private t = 0;
  private envSteps = 0;
  private state: RecurrentState | null;
  private starts: Float32Array;
  private lastAct: { state: RecurrentState | null } | null = null;
  /** Box actions clipped to the bounds since the last update (training acts only). */
  private clippedSinceUpdate = 0;
  private readonly obsStats: RunningMeanStd | null;
  private readonly rewardScaler: RewardScaler | null;

  constructor(options: { config: Partial<PgConfig> & { annealSteps?: number }; observationSpace: Space; actionSpace: Space; numEnvs: number; seed: number }) {
    const { annealSteps = 0, ...config } = options.config;
    this.pg = new PolicyGradientAgent({ config, observationSpace: options.observationSpace, actionSpace: options.actionSpace, seed: options.seed });
    this.kind = this.pg.config.algorithm;
    this.numEnvs = options.numEnvs;
    this.annealSteps = annealSteps;
    const T = this.pg.config.numSteps;
    const N = this.numEnvs;
    const S = this.pg.obsSize;
    this.rollout = {
      numSteps: T,
      numEnvs: N,
      obs: new Float32Array(T * N * S),
      actions: newActions(this.pg.action, T * N),
      logProbs: new Float32Array(T * N),
      values: new Float32Array(T * N),
      rewards: new Float32Array(T * N),
      terminated: new Uint8Array(T * N),
      truncated: new Uint8Array(T * N),
      truncValues: new Float32Array(T * N),
      starts: new Float32Array(T * N),
      lastValues: new Float32Array(N),
      initialState: null,
    };
    this.state = this.pg.initialState(N);
    this.starts = new Float32Array(N).fill(1);
    this.obsStats = this.pg.config.normObs ? new RunningMeanStd(S) : null;
    this.rewardScaler = this.pg.config.normReward ? new RewardScaler(N, this.pg.config.gamma) : null;
  }

  /** Observations as the network sees them: normalised when `normObs` (`learn` = update the statistics first). */
  private netObs(obs: ObsArray, rows: number, learn: boolean): ObsArray {
    if (!this.obsStats) return obs;
    if (learn) this.obsStats.update(obs, rows);
    return normalizeObs(this.obsStats, obs, rows);
  }

  /** What the envs get: Box actions clipped to the bounds (and counted when `count`), others as they are. */
  private envActions(actions: PgActions, count: boolean): ActionBatch {
    const a = this.pg.action;
    if (a.kind !== 'box') return actions;
    const c = clipToBox(actions, a);
    if (count) this.clippedSinceUpdate += c.clipped;
    return c.actions;
  }

  /** Observation normalisation statistics (`normObs`), read by export; null when off. */
  get obsNormStats(): RunningMeanStd | null {
    return this.obsStats;
  }

  /** True when the policy carries an LSTM state (evaluation must thread it). */
  get recurrent(): boolean {
    return this.pg.recurrent;
  }

  async act(obs: ObsArray, options: ActOptions & { episodeStarts?: ArrayLike<number> }, state?: unknown): Promise<ActResult> {
    const n = options.numEnvs;
    if (options.epsilon !== undefined || (options as { mode?: string }).mode === 'eval') {
      // Evaluation: greedy policy, state threaded by the caller.
      const prev = (state as PgEvalState | undefined)?.state ?? this.pg.initialState(n);
      const starts = options.episodeStarts ?? new Float32Array(n).fill(state === undefined ? 1 : 0);
      const r = await this.pg.act(this.netObs(obs, n, false), n, prev, starts, { greedy: true });
      return { actions: this.envActions(r.actions, false), state: { state: r.state } satisfies PgEvalState, info: { probs: r.probs, value: r.values } };
    }
    obs = this.netObs(obs, n, true);
    const r = await this.pg.act(obs, n, this.state, this.starts);
    const T = this.t;
    const N = this.numEnvs;
    const S = this.pg.obsSize;
    if (T === 0) this.rollout.initialState = this.state ? { h: Float32Array.from(this.state.h), c: Float32Array.from(this.state.c) } : null;
    if (this.rollout.obs.constructor !== obs.constructor) this.rollout.obs = new (obs.constructor as { new (n: number): ObsArray })(this.rollout.obs.length);
    this.rollout.obs.set(obs, T * N * S);
    this.rollout.starts.set(this.starts, T * N);
    this.rollout.actions.set(r.actions, T * N * this.pg.actionWidth);
    this.rollout.logProbs.set(r.logProbs, T * N);
    this.rollout.values.set(r.values, T * N);
    this.lastAct = { state: r.state };
    return { actions: this.envActions(r.actions, true), info: { probs: r.probs, value: r.values } };
  }

  async observe(step: StepBatch): Promise<UpdateMetrics | null> {
    const N = this.numEnvs;
    const T = this.t;
    const S = this.pg.obsSize;
    const ro = this.rollout;
    ro.rewards.set(this.rewardScaler ? this.rewardScaler.scale(step.rewards, step.terminated, step.truncated) : step.rewards, T * N);
    ro.terminated.set(step.terminated, T * N);
    ro.truncated.set(step.truncated, T * N);
    const post = this.lastAct?.state ?? null;
    ro.truncValues.fill(0, T * N, (T + 1) * N);
    if (step.truncated.some((x, e) => x === 1 && !step.terminated[e])) {
      // Bootstrap truncated episodes from V(finalObs), continuing each env's own recurrent state.
      const finalObs = new (step.nextObs.constructor as { new (n: number): ObsArray })(N * S);
      finalObs.set(step.nextObs);
      for (let e = 0; e < N; e++) if (step.truncated[e] && step.finalObs[e]) finalObs.set(step.finalObs[e]!, e * S);
      const v = await this.pg.values(this.netObs(finalObs, N, false), N, post, new Float32Array(N));
      for (let e = 0; e < N; e++) if (step.truncated[e]) ro.truncValues[T * N + e] = v[e]!;
    }
    this.state = post;
    this.starts = new Float32Array(N);
    for (let e = 0; e < N; e++) if (step.terminated[e] || step.truncated[e]) this.starts[e] = 1;
    this.t++;
    this.envSteps += N;
    if (this.t < ro.numSteps) return null;
    this.t = 0;
    ro.lastValues.set(await this.pg.values(this.netObs(step.nextObs, N, false), N, this.state, this.starts));
    const m = await this.pg.update(ro, this.annealSteps > 0 ? this.envSteps / this.annealSteps : 0);
    if (!m) return null;
    const out = toMetrics(m);
    if (this.pg.action.kind === 'box') {
      out.clipped_actions = this.clippedSinceUpdate;
      this.clippedSinceUpdate = 0;
    }
    return out;
  }

  schedule(): Record<string, number> {
    const lr = this.pg.config.annealLr && this.annealSteps > 0 ? this.pg.config.lr * Math.max(0, 1 - this.envSteps / this.annealSteps) : this.pg.config.lr;
    return { updates: this.pg.updates, lr };
  }

  async save(): Promise<AgentSnapshot> {
    const snap = await this.pg.save();
    const ro = this.rollout;
    const blobs: Record<string, Uint8Array> = {};
    // A checkpoint can fall inside a rollout: keep the partial rollout so resume is exact.
    for (const k of ['obs', 'actions', 'logProbs', 'values', 'rewards', 'terminated', 'truncated', 'truncValues', 'starts'] as const) blobs[`rollout.${k}`] = bytesOf(ro[k]);
    if (ro.initialState) {
      blobs['rollout.h0'] = bytesOf(ro.initialState.h);
      blobs['rollout.c0'] = bytesOf(ro.initialState.c);
    }
    if (this.state) {
      blobs['state.h'] = bytesOf(this.state.h);
      blobs['state.c'] = bytesOf(this.state.c);
    }
    blobs['starts'] = bytesOf(this.starts);
    const norm = { obs: this.obsStats?.getState() ?? null, reward: this.rewardScaler?.getState() ?? null };
    return { json: { pg: snap as unknown as Record<string, unknown>, t: this.t, envSteps: this.envSteps, obsDtype: ro.obs.constructor.name, clippedSinceUpdate: this.clippedSinceUpdate, norm }, blobs };
  }

  async load(snapshot: AgentSnapshot): Promise<void> {
    const j = snapshot.json as { pg: PgAgentSnapshot; t: number; envSteps: number; obsDtype: string; clippedSinceUpdate?: number; norm?: { obs: RunningMeanStdState | null; reward: RewardScalerState | null } };
    await this.pg.load(j.pg);
    const b = snapshot.blobs;
    const f32 = (x: Uint8Array) => new Float32Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
    const u8 = (x: Uint8Array) => Uint8Array.from(x);
    const ro = this.rollout;
    const obsBytes = b['rollout.obs']!;
    const obsBuf = obsBytes.buffer.slice(obsBytes.byteOffset, obsBytes.byteOffset + obsBytes.byteLength);
    ro.obs = j.obsDtype === 'Uint8Array' ? new Uint8Array(obsBuf) : j.obsDtype === 'Int32Array' ? new Int32Array(obsBuf) : new Float32Array(obsBuf);
    const actionBuf = f32(b['rollout.actions']!).buffer;
    ro.actions = this.pg.action.kind === 'box' ? new Float32Array(actionBuf) : new Int32Array(actionBuf);
    ro.logProbs = f32(b['rollout.logProbs']!);
    ro.values = f32(b['rollout.values']!);
    ro.rewards = f32(b['rollout.rewards']!);
    ro.terminated = u8(b['rollout.terminated']!);
    ro.truncated = u8(b['rollout.truncated']!);
    ro.truncValues = f32(b['rollout.truncValues']!);
    ro.starts = f32(b['rollout.starts']!);
    ro.initialState = b['rollout.h0'] ? { h: f32(b['rollout.h0']!), c: f32(b['rollout.c0']!) } : null;
    this.state = b['state.h'] ? { h: f32(b['state.h']!), c: f32(b['state.c']!) } : null;
    this.starts = f32(b['starts']!);
    this.t = j.t;
    this.envSteps = j.envSteps;
    this.clippedSinceUpdate = j.clippedSinceUpdate ?? 0;
    if (this.obsStats) this.obsStats.setState(j.norm?.obs as RunningMeanStdState);
    if (this.rewardScaler) this.rewardScaler.setState(j.norm?.reward as RewardScalerState);
  }

  dispose(): void {
    this.pg.dispose();
  }
}

function toMetrics(m: PgUpdateMetrics): UpdateMetrics {
  const out: UpdateMetrics = { loss: m.loss, policy_loss: m.policyLoss, value_loss: m.valueLoss, entropy: m.entropy, grad_norm: m.gradNorm, lr: m.lr, updates: 1 };
  if (m.approxKl !== null) out.approx_kl = m.approxKl;
  if (m.clipFraction !== null) out.clip_fraction = m.clipFraction;
  return out;
}
