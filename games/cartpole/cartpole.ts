/**
 * CartPole-v1, faithful to Gymnasium (shared/specs/minatar.md section 7): float64 state, float32
 * observations, Euler integration in the reference evaluation order. The 500-step truncation comes
 * from the registry's TimeLimit.
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';

const GRAVITY = 9.8;
const MASSCART = 1.0;
const MASSPOLE = 0.1;
const TOTAL_MASS = MASSPOLE + MASSCART;
const LENGTH = 0.5;
const POLEMASS_LENGTH = MASSPOLE * LENGTH;
const FORCE_MAG = 10.0;
const TAU = 0.02;
export const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
export const X_THRESHOLD = 2.4;

export interface CartPoleOptions {
  /** Render width in pixels (default 150). */
  renderWidth?: number;
  /** Render height in pixels (default 100). */
  renderHeight?: number;
  /** Sutton & Barto reward: 0 per step, -1 on termination (default false). */
  suttonBartoReward?: boolean;
}

export class CartPoleEnv implements Env<Float32Array, number> {
  readonly observationSpace = new Box({
    shape: [4],
    dtype: 'float32',
    low: [-X_THRESHOLD * 2, -Infinity, -THETA_THRESHOLD * 2, -Infinity],
    high: [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD * 2, Infinity],
  });
  readonly actionSpace = new Discrete(2);
  readonly spec: EnvSpec;
  /** Internal float64 state [x, xDot, theta, thetaDot]. */
  readonly state = new Float64Array(4);
  private rng = new SeededRng(0);
  private done = true;
  private readonly width: number;
  private readonly height: number;
  private readonly suttonBarto: boolean;

  constructor(options: CartPoleOptions = {}) {
    const { renderWidth = 150, renderHeight = 100, suttonBartoReward = false, ...unknown } = options;
    const bad = Object.keys(unknown);
    if (bad.length) throw new InvalidConfigError(formatError('cartpole', 'options among renderWidth, renderHeight, suttonBartoReward', bad.join(', '), 'remove the unknown options'));
    for (const [k, v] of [['renderWidth', renderWidth], ['renderHeight', renderHeight]] as const) {
      if (!Number.isInteger(v) || v < 20) throw new InvalidConfigError(formatError('cartpole', `${k} to be an integer >= 20`, describe(v), 'pass a size in pixels'));
    }
    // Options can come from files (episodes, bundles): refuse frames no reader would accept.
    const tooLarge = frameSizeProblem(renderWidth, renderHeight);
    if (tooLarge) throw new InvalidConfigError(formatError('cartpole', 'renderWidth x renderHeight within the frame limits', tooLarge, 'pass a smaller size in pixels'));
    this.width = renderWidth;
    this.height = renderHeight;
    this.suttonBarto = suttonBartoReward;
    this.spec = { id: 'cartpole', actionNames: ['left', 'right'], maxEpisodeSteps: 500, rewardThreshold: 475, options: { renderWidth, renderHeight, suttonBartoReward } };
  }

  /**
   * Options: `low`/`high` override the uniform reset bounds (default -0.05/0.05); `state` (4 numbers)
   * sets the initial state directly.
   */
  reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const o = args.options ?? {};
    if (o.state !== undefined) {
      const st = o.state as number[];
      if (!Array.isArray(st) || st.length !== 4 || st.some((v) => typeof v !== 'number')) {
        throw new InvalidConfigError(formatError('cartpole.reset', 'options.state to be 4 numbers', describe(st), 'pass [x, xDot, theta, thetaDot]'));
      }
      this.state.set(st);
    } else {
      const low = (o.low as number | undefined) ?? -0.05;
      const high = (o.high as number | undefined) ?? 0.05;
      for (let i = 0; i < 4; i++) this.state[i] = low + (high - low) * this.rng.random();
    }
    this.done = false;
    return { obs: Float32Array.from(this.state), info: {} };
  }

  step(action: number): StepResult<Float32Array> {
    if (action !== 0 && action !== 1) {
      throw new InvalidActionError(formatError('cartpole.step', 'an action in {0, 1} (left, right)', describe(action), 'pass 0 or 1'));
    }
    const s = this.state;
    const x = s[0]!;
    const xDot = s[1]!;
    const theta = s[2]!;
    const thetaDot = s[3]!;
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const c = Math.cos(theta);
    const sn = Math.sin(theta);
    // Evaluation order matters for bit-exact float64 agreement with the reference.
    const temp = (force + POLEMASS_LENGTH * (thetaDot * thetaDot) * sn) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sn - c * temp) / (LENGTH * (4.0 / 3.0 - MASSPOLE * (c * c) / TOTAL_MASS));
    const xAcc = temp - (POLEMASS_LENGTH * thetaAcc * c) / TOTAL_MASS;
    s[0] = x + TAU * xDot;
    s[1] = xDot + TAU * xAcc;
    s[2] = theta + TAU * thetaDot;
    s[3] = thetaDot + TAU * thetaAcc;
    const terminated = s[0]! < -X_THRESHOLD || s[0]! > X_THRESHOLD || s[2]! < -THETA_THRESHOLD || s[2]! > THETA_THRESHOLD;
    let reward: number;
    if (!this.done) {
      reward = this.suttonBarto ? (terminated ? -1 : 0) : 1;
    } else {
      reward = 0; // stepping after termination: undefined behaviour in the reference; no reward
    }
    if (terminated) this.done = true;
    return { obs: Float32Array.from(s), reward, terminated, truncated: false, info: {} };
  }

  render(): RgbFrame {
    const w = this.width;
    const h = this.height;
    const data = new Uint8Array(w * h * 3).fill(255);
    const scale = w / (X_THRESHOLD * 2);
    const cartY = Math.round(h * 0.75);
    const cartW = Math.max(4, Math.round(w / 12));
    const cartH = Math.max(3, Math.round(h / 14));
    const cx = Math.round(this.state[0]! * scale + w / 2);
    const put = (x: number, y: number, r: number, g: number, b: number): void => {
      if (x < 0 || y < 0 || x >= w || y >= h) return;
      const i = (y * w + x) * 3;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    };
    for (let x = 0; x < w; x++) put(x, cartY + cartH, 0, 0, 0); // track
    for (let y = cartY - cartH; y <= cartY + cartH; y++) for (let x = cx - cartW; x <= cx + cartW; x++) put(x, y, 30, 30, 30);
    const poleLen = scale * 2 * LENGTH;
    const th = this.state[2]!;
    const steps = Math.ceil(poleLen * 2);
    for (let k = 0; k <= steps; k++) {
      const t = (k / steps) * poleLen;
      const px = Math.round(cx + Math.sin(th) * t);
      const py = Math.round(cartY - cartH - Math.cos(th) * t);
      for (let d = -1; d <= 1; d++) put(px + d, py, 202, 152, 101);
    }
    return { width: w, height: h, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: { state: Array.from(this.state), done: this.done }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot.game as { state: number[]; done: boolean };
    this.state.set(g.state);
    this.done = g.done;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
