/**
 * MountainCarContinuous-v0, faithful to Gymnasium's published equations: drive an under-powered car
 * out of a valley by rocking it. Arithmetic in float64; the state is rounded to float32 after every
 * step because Gymnasium stores it as a float32 array (the reset state stays float64, as there).
 * The 999-step truncation comes from the registry's TimeLimit.
 */
import { InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { renderSizeProblem } from '../common/render-size.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box } from '../../src/envs/spaces.js';
import { clip, readScalarAction } from '../common/box-action.js';

export const MCC_MIN_POSITION = -1.2;
export const MCC_MAX_POSITION = 0.6;
export const MCC_MAX_SPEED = 0.07;
export const MCC_GOAL_POSITION = 0.45;
/** Force multiplier applied to the clipped action. */
export const MCC_POWER = 0.0015;

export interface MountainCarContinuousOptions {
  /** Velocity the car must have at the goal position to finish (default 0, as Gymnasium). */
  goalVelocity?: number;
  /** Side of the square render in pixels (default 64). */
  renderSize?: number;
}

/** Default options of `mountain-car-continuous`. */
export const MCC_DEFAULTS: Required<MountainCarContinuousOptions> = { goalVelocity: 0, renderSize: 64 };

/** Validates options, reporting every bad field at once. */
export function resolveMountainCarContinuousConfig(options: MountainCarContinuousOptions = {}): Required<MountainCarContinuousOptions> {
  const { goalVelocity = MCC_DEFAULTS.goalVelocity, renderSize = MCC_DEFAULTS.renderSize, ...unknown } = options;
  const problems: string[] = [];
  const unknownKeys = Object.keys(unknown);
  if (unknownKeys.length) problems.push(`unknown options ${unknownKeys.join(', ')}`);
  if (typeof goalVelocity !== 'number' || !Number.isFinite(goalVelocity)) problems.push(`goalVelocity ${describe(goalVelocity)}`);
  const sizeProblem = renderSizeProblem(renderSize);
  if (sizeProblem) problems.push(sizeProblem);
  if (problems.length) {
    throw new InvalidConfigError(
      formatError('mountain-car-continuous', 'options goalVelocity (a finite number) and renderSize (an integer >= 16, within the frame limits) only', problems.join('; '), 'fix or remove the listed options'),
    );
  }
  return { goalVelocity, renderSize };
}

/** Height of the track at `x` (Gymnasium's rendering curve, in [0.1, 1]). */
function trackHeight(x: number): number {
  return Math.sin(3 * x) * 0.45 + 0.55;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export class MountainCarContinuousEnv implements Env<Float32Array, Float32Array> {
  // float32 bounds, as Gymnasium's Box: an observation at exactly -1.2 is -1.2 rounded to float32.
  readonly observationSpace = new Box({
    shape: [2],
    dtype: 'float32',
    low: [Math.fround(MCC_MIN_POSITION), Math.fround(-MCC_MAX_SPEED)],
    high: [Math.fround(MCC_MAX_POSITION), Math.fround(MCC_MAX_SPEED)],
  });
  readonly actionSpace = new Box({ shape: [1], dtype: 'float32', low: -1, high: 1 });
  readonly spec: EnvSpec;
  private position = 0;
  private velocity = 0;
  private rng = new SeededRng(0);
  private readonly goalVelocity: number;
  private readonly size: number;

  constructor(options: MountainCarContinuousOptions = {}) {
    const { goalVelocity, renderSize } = resolveMountainCarContinuousConfig(options);
    this.goalVelocity = goalVelocity;
    this.size = renderSize;
    this.spec = { id: 'mountain-car-continuous', actionNames: ['force'], maxEpisodeSteps: 999, rewardThreshold: 90, options: { goalVelocity, renderSize } };
  }

  /** Option `state: [position, velocity]` sets the initial state directly (for tests). */
  reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const st = args.options?.state;
    if (st !== undefined) {
      if (!Array.isArray(st) || st.length !== 2 || !st.every(isFiniteNumber)) {
        throw new InvalidConfigError(formatError('mountain-car-continuous.reset', 'options.state to be 2 finite numbers', describe(st), 'pass [position, velocity]'));
      }
      this.position = st[0]!;
      this.velocity = st[1]!;
    } else {
      this.position = -0.6 + 0.2 * this.rng.random();
      this.velocity = 0;
    }
    return { obs: this.observe(), info: {} };
  }

  step(action: Float32Array): StepResult<Float32Array> {
    const raw = readScalarAction('mountain-car-continuous.step', action, -1, 1);
    const force = clip(raw, -1, 1);
    let position = this.position;
    let velocity = this.velocity;
    velocity += force * MCC_POWER - 0.0025 * Math.cos(3 * position);
    if (velocity > MCC_MAX_SPEED) velocity = MCC_MAX_SPEED;
    if (velocity < -MCC_MAX_SPEED) velocity = -MCC_MAX_SPEED;
    position += velocity;
    if (position > MCC_MAX_POSITION) position = MCC_MAX_POSITION;
    if (position < MCC_MIN_POSITION) position = MCC_MIN_POSITION;
    if (position === MCC_MIN_POSITION && velocity < 0) velocity = 0;
    const terminated = position >= MCC_GOAL_POSITION && velocity >= this.goalVelocity;
    // The energy cost uses the action as given, not the clipped force (Gymnasium's order).
    let reward = terminated ? 100.0 : 0;
    reward -= raw ** 2 * 0.1;
    this.position = Math.fround(position);
    this.velocity = Math.fround(velocity);
    return { obs: this.observe(), reward, terminated, truncated: false, info: {} };
  }

  private observe(): Float32Array {
    return Float32Array.of(this.position, this.velocity);
  }

  /** The track curve, a flag at the goal and the car as a square. */
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
    const span = MCC_MAX_POSITION - MCC_MIN_POSITION;
    const toPx = (x: number): number => Math.round(((x - MCC_MIN_POSITION) / span) * (s - 1));
    const toPy = (x: number): number => Math.round((1 - trackHeight(x)) * (s - 8) + 4);
    for (let px = 0; px < s; px++) put(px, toPy(MCC_MIN_POSITION + (px / (s - 1)) * span), 0, 0, 0);
    const fx = toPx(MCC_GOAL_POSITION);
    const fy = toPy(MCC_GOAL_POSITION);
    for (let y = fy - 6; y < fy; y++) put(fx, y, 0, 0, 0);
    for (let y = fy - 6; y < fy - 3; y++) for (let x = fx + 1; x <= fx + 3; x++) put(x, y, 204, 204, 0);
    const cx = toPx(this.position);
    const cy = toPy(this.position) - 2;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -2; dx <= 2; dx++) put(cx + dx, cy + dy, 60, 60, 200);
    return { width: s, height: s, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: { position: this.position, velocity: this.velocity }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as { position?: unknown; velocity?: unknown } | undefined;
    if (!g || !isFiniteNumber(g.position) || !isFiniteNumber(g.velocity)) {
      throw new InvalidConfigError(formatError('mountain-car-continuous.setState', 'a snapshot {game: {position, velocity}} from getState()', describe(g), 'pass the output of getState()'));
    }
    this.position = g.position;
    this.velocity = g.velocity;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
