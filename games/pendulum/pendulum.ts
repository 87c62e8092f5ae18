/**
 * Pendulum-v1, faithful to Gymnasium's published equations: swing a frictionless pendulum up and
 * keep it upright with a bounded torque. float64 state, float32 observations
 * [cos th, sin th, thdot]. The game never terminates; the 200-step truncation comes from the
 * registry's TimeLimit.
 */
import { InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { renderSizeProblem } from '../common/render-size.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box } from '../../src/envs/spaces.js';
import { clip, readScalarAction } from '../common/box-action.js';

/** Angular speed cap (rad/s). */
export const PENDULUM_MAX_SPEED = 8;
/** Torque bound (N m); actions outside are clipped. */
export const PENDULUM_MAX_TORQUE = 2;
/** Integration step (s). */
export const PENDULUM_DT = 0.05;
const MASS = 1.0;
const LENGTH = 1.0;

export interface PendulumOptions {
  /** Gravity (m/s^2, default 10.0 as Gymnasium's Pendulum-v1). */
  g?: number;
  /** Side of the square render in pixels (default 64). */
  renderSize?: number;
}

/** Default options of `pendulum`. */
export const PENDULUM_DEFAULTS: Required<PendulumOptions> = { g: 10.0, renderSize: 64 };

/** Validates options, reporting every bad field at once. */
export function resolvePendulumConfig(options: PendulumOptions = {}): Required<PendulumOptions> {
  const { g = PENDULUM_DEFAULTS.g, renderSize = PENDULUM_DEFAULTS.renderSize, ...unknown } = options;
  const problems: string[] = [];
  const unknownKeys = Object.keys(unknown);
  if (unknownKeys.length) problems.push(`unknown options ${unknownKeys.join(', ')}`);
  if (typeof g !== 'number' || !Number.isFinite(g)) problems.push(`g ${describe(g)}`);
  const sizeProblem = renderSizeProblem(renderSize);
  if (sizeProblem) problems.push(sizeProblem);
  if (problems.length) {
    throw new InvalidConfigError(formatError('pendulum', 'options g (a finite number) and renderSize (an integer >= 16, within the frame limits) only', problems.join('; '), 'fix or remove the listed options'));
  }
  return { g, renderSize };
}

/** Wraps an angle to [-pi, pi) with Python's modulo semantics (the sign follows the divisor). */
export function angleNormalize(x: number): number {
  const twoPi = 2 * Math.PI;
  let m = (x + Math.PI) % twoPi;
  if (m < 0) m += twoPi;
  return m - Math.PI;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export class PendulumEnv implements Env<Float32Array, Float32Array> {
  readonly observationSpace = new Box({
    shape: [3],
    dtype: 'float32',
    low: [-1, -1, -PENDULUM_MAX_SPEED],
    high: [1, 1, PENDULUM_MAX_SPEED],
  });
  readonly actionSpace = new Box({ shape: [1], dtype: 'float32', low: -PENDULUM_MAX_TORQUE, high: PENDULUM_MAX_TORQUE });
  readonly spec: EnvSpec;
  /** Angle (rad, 0 = upright). */
  private th = 0;
  /** Angular velocity (rad/s). */
  private thdot = 0;
  /** Last applied (clipped) torque, drawn by `render`; null before the first step. */
  private lastU: number | null = null;
  private rng = new SeededRng(0);
  private readonly g: number;
  private readonly size: number;

  constructor(options: PendulumOptions = {}) {
    const { g, renderSize } = resolvePendulumConfig(options);
    this.g = g;
    this.size = renderSize;
    this.spec = { id: 'pendulum', actionNames: ['torque'], maxEpisodeSteps: 200, options: { g, renderSize } };
  }

  /** Option `state: [th, thdot]` sets the initial state directly (for tests and curricula). */
  reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const st = args.options?.state;
    if (st !== undefined) {
      if (!Array.isArray(st) || st.length !== 2 || !st.every(isFiniteNumber)) {
        throw new InvalidConfigError(formatError('pendulum.reset', 'options.state to be 2 finite numbers', describe(st), 'pass [th, thdot]'));
      }
      this.th = st[0]!;
      this.thdot = st[1]!;
    } else {
      // Gymnasium draws th ~ U(-pi, pi), then thdot ~ U(-1, 1).
      this.th = -Math.PI + 2 * Math.PI * this.rng.random();
      this.thdot = -1 + 2 * this.rng.random();
    }
    this.lastU = null;
    return { obs: this.observe(), info: {} };
  }

  step(action: Float32Array): StepResult<Float32Array> {
    const u = clip(readScalarAction('pendulum.step', action, -PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE), -PENDULUM_MAX_TORQUE, PENDULUM_MAX_TORQUE);
    const th = this.th;
    const thdot = this.thdot;
    // The cost uses the state before the update (Gymnasium's order).
    const costs = angleNormalize(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2;
    let newthdot = thdot + (((3 * this.g) / (2 * LENGTH)) * Math.sin(th) + (3.0 / (MASS * LENGTH ** 2)) * u) * PENDULUM_DT;
    newthdot = clip(newthdot, -PENDULUM_MAX_SPEED, PENDULUM_MAX_SPEED);
    this.th = th + newthdot * PENDULUM_DT;
    this.thdot = newthdot;
    this.lastU = u;
    return { obs: this.observe(), reward: -costs, terminated: false, truncated: false, info: {} };
  }

  private observe(): Float32Array {
    return Float32Array.of(Math.cos(this.th), Math.sin(this.th), this.thdot);
  }

  /** A rod from the centre (upright when th = 0), with a bar under it showing the last torque. */
  render(): RgbFrame {
    const s = this.size;
    const data = new Uint8Array(s * s * 3).fill(255);
    const put = (x: number, y: number, r: number, g: number, b: number): void => {
      if (x < 0 || y < 0 || x >= s || y >= s) return;
      const i = (y * s + x) * 3;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    };
    const c = (s - 1) / 2;
    const rodLen = s * 0.4;
    const steps = Math.ceil(rodLen * 2);
    for (let k = 0; k <= steps; k++) {
      const t = (k / steps) * rodLen;
      // Positive th turns the rod counter-clockwise on screen.
      const px = Math.round(c - Math.sin(this.th) * t);
      const py = Math.round(c - Math.cos(this.th) * t);
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) put(px + dx, py + dy, 204, 77, 77);
    }
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) put(Math.round(c) + dx, Math.round(c) + dy, 0, 0, 0);
    if (this.lastU !== null) {
      const half = Math.round((this.lastU / PENDULUM_MAX_TORQUE) * (s / 2 - 2));
      const y = s - 3;
      for (let x = Math.min(0, half); x <= Math.max(0, half); x++) put(Math.round(c) + x, y, 60, 60, 200);
    }
    return { width: s, height: s, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: { th: this.th, thdot: this.thdot, lastU: this.lastU }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as { th?: unknown; thdot?: unknown; lastU?: unknown } | undefined;
    if (!g || !isFiniteNumber(g.th) || !isFiniteNumber(g.thdot) || !(g.lastU === null || isFiniteNumber(g.lastU))) {
      throw new InvalidConfigError(formatError('pendulum.setState', 'a snapshot {game: {th, thdot, lastU}} from getState()', describe(g), 'pass the output of getState()'));
    }
    this.th = g.th;
    this.thdot = g.thdot;
    this.lastU = g.lastU;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
