/**
 * Small-pixel Pong (default 40x40 playfield). Player 0 (the agent) holds the right paddle,
 * player 1 the left one: a scripted bot in `mode: 'vs-bot'`, a second policy in
 * `mode: 'two-player'` (`step([a0, a1])`). Paddles are `paddleHeight` px tall and 1 px wide,
 * one column in from each edge; the ball is a `ballSize` px square with float position and
 * velocity. It bounces off the top and bottom walls; a paddle sends it back with a vertical speed
 * set by where it hit (centre: flat, edges: steep, up to 45 degrees) and a `ballSpeedup` factor
 * (capped at `maxBallSpeed`). A ball that leaves the field on one side is a point for the other
 * side: +1 / -1 from player 0's view. The next serve starts from the centre column toward the
 * player who conceded (random at reset), with a random vertical speed drawn from the env RNG.
 * The episode terminates when one side has `pointsToWin` points; the registry adds a step cap
 * (truncation) for endless rallies.
 *
 * Observation: `[height, width, 1]` uint8 grayscale from player 0's view: background 0, the
 * opponent's paddle 85, player 0's paddle 170, ball 255. `mirrorPongObs` gives player 1's view.
 *
 * The bot (`botSkill` in [0, 1]) follows the ball's centre plus an aim error, only while the
 * ball comes toward it and is within its reaction distance; otherwise it drifts back to the middle.
 * Its speed is `paddleSpeed * (0.2 + 0.65 * skill)`, its reaction distance
 * `width * (0.3 + 0.7 * skill)`, and its aim error uniform in
 * `+-(0.15 + 0.75 * (1 - skill)) * paddleHeight`, redrawn at every serve and every return by
 * player 0 (from the env RNG). Even at skill 1 it is slower than the ball's steepest returns.
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, Info, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete, MultiDiscrete, type Space } from '../../src/envs/spaces.js';
import { ObsPool } from '../../src/envs/obs-pool.js';
import { fillRect, solidFrame } from '../common/raster.js';

export type PongMode = 'vs-bot' | 'two-player';
/** One action index in vs-bot mode; `[a0, a1]` in two-player mode. */
export type PongAction = number | Int32Array | readonly number[];

export interface PongOptions {
  /** `'vs-bot'` (default): player 1 is scripted; `'two-player'`: `step([a0, a1])`. */
  mode?: PongMode;
  /** Playfield width (px, default 40). */
  width?: number;
  /** Playfield height (px, default 40). */
  height?: number;
  /** Paddle height (px, default 6). */
  paddleHeight?: number;
  /** Paddle speed (px per step, default 2). */
  paddleSpeed?: number;
  /** Side of the square ball (px, default 2). */
  ballSize?: number;
  /** Horizontal ball speed at a serve (px per step, default 1). */
  ballSpeed?: number;
  /** Factor applied to the ball speed at every paddle hit (default 1.05). */
  ballSpeedup?: number;
  /** Cap of the horizontal ball speed (px per step, default 2). */
  maxBallSpeed?: number;
  /** Points that end the game (default 5). */
  pointsToWin?: number;
  /** Skill of the scripted opponent in [0, 1] (default 0.5); ignored in two-player mode. */
  botSkill?: number;
  /** Pixels per playfield pixel in `render()` (default 4). */
  renderScale?: number;
  /**
   * `'pixels'` (default): the `[height, width, 1]` uint8 field. `'state'`: a float32 `[6]` vector
   * from player 0's view, for fast training: ball x / width, ball y / height, ball vx / maxBallSpeed,
   * ball vy / maxBallSpeed, own paddle top / height, opponent paddle top / height.
   */
  obsType?: PongObsType;
  /**
   * Shaping for fast NPC training (default 0 = plain Pong): each step without a point adds
   * `-trackReward * |paddle centre - ball centre| / height` to player 0's reward.
   */
  trackReward?: number;
}

export type PongObsType = 'pixels' | 'state';
/** Length of the `obsType: 'state'` vector. */
export const PONG_STATE_SIZE = 6;

export const PONG_DEFAULTS = {
  mode: 'vs-bot' as PongMode,
  width: 40,
  height: 40,
  paddleHeight: 6,
  paddleSpeed: 2,
  ballSize: 2,
  ballSpeed: 1,
  ballSpeedup: 1.05,
  maxBallSpeed: 2,
  pointsToWin: 5,
  botSkill: 0.5,
  renderScale: 4,
  obsType: 'pixels' as PongObsType,
  trackReward: 0,
};

export type PongConfig = typeof PONG_DEFAULTS;

/** Action names (per player); index = action. */
export const PONG_ACTIONS = ['noop', 'up', 'down'];
/** Observation intensities. */
export const PONG_INTENSITY = { background: 0, opponent: 85, player: 170, ball: 255 };

/** Validates options, reporting every bad field at once. */
export function resolvePongConfig(options: PongOptions = {}): PongConfig {
  const known = Object.keys(PONG_DEFAULTS);
  const errors: string[] = [];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) errors.push(`unknown options ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const c = { ...PONG_DEFAULTS, ...options } as PongConfig;
  if (c.mode !== 'vs-bot' && c.mode !== 'two-player') errors.push(`mode ${describe(c.mode)} ('vs-bot' | 'two-player')`);
  const int = (k: keyof PongConfig, lo: number, hi: number): void => {
    const v = c[k];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) errors.push(`${k} ${describe(v)} (an integer in [${lo}, ${hi}])`);
  };
  const num = (k: keyof PongConfig, lo: number, hi: number): void => {
    const v = c[k];
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) errors.push(`${k} ${describe(v)} (a number in [${lo}, ${hi}])`);
  };
  int('width', 16, 512);
  int('height', 12, 512);
  int('paddleHeight', 1, Math.max(1, Math.floor(c.height / 2)));
  int('paddleSpeed', 1, 64);
  int('ballSize', 1, 8);
  num('ballSpeed', 0.1, 8);
  num('ballSpeedup', 1, 2);
  num('maxBallSpeed', c.ballSpeed, 8);
  int('pointsToWin', 1, 1000);
  num('botSkill', 0, 1);
  int('renderScale', 1, 32);
  num('trackReward', 0, 10);
  if (c.obsType !== 'pixels' && c.obsType !== 'state') errors.push(`obsType ${describe(c.obsType)} ('pixels' | 'state')`);
  if (!errors.length) {
    const tooLarge = frameSizeProblem(c.width * c.renderScale, c.height * c.renderScale);
    if (tooLarge) errors.push(`${tooLarge}: lower width, height or renderScale`);
  }
  if (errors.length) throw new InvalidConfigError(formatError('pong', 'valid options', errors.join('; '), 'fix or remove the listed options'));
  return c;
}

/** Player 1's view of a player-0 observation: flipped left-right, paddle intensities swapped. */
export function mirrorPongObs(obs: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(obs.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = obs[row + x]!;
      out[row + width - 1 - x] = v === PONG_INTENSITY.player ? PONG_INTENSITY.opponent : v === PONG_INTENSITY.opponent ? PONG_INTENSITY.player : v;
    }
  }
  return out;
}

interface PongGameState {
  ballX: number;
  ballY: number;
  ballVx: number;
  ballVy: number;
  /** Top rows of the paddles (player 0 right, player 1 left); player 1's may be fractional (bot). */
  paddleY: [number, number];
  score: [number, number];
  hits: [number, number];
  aimError: number;
  done: boolean;
}

export class PongEnv implements Env<Uint8Array | Float32Array, PongAction> {
  readonly observationSpace: Box<'uint8'> | Box<'float32'>;
  readonly actionSpace: Space<PongAction>;
  readonly spec: EnvSpec;
  readonly config: PongConfig;
  private rng = new SeededRng(0);
  private s: PongGameState;
  /** Columns of the paddles' faces: the ball hits player 0 when its right edge crosses `rightFace`. */
  private readonly rightCol: number;
  private readonly leftCol: number;
  private readonly pool: ObsPool;
  /** Field colour and centre line, drawn once; `render` copies it. */
  private readonly background: Uint8Array;

  constructor(options: PongOptions = {}) {
    const c = resolvePongConfig(options);
    this.config = c;
    this.rightCol = c.width - 2;
    this.leftCol = 1;
    this.pool = new ObsPool(c.width * c.height);
    const k = c.renderScale;
    this.background = solidFrame(c.width * k, c.height * k, 16, 40, 24);
    for (let y = 0; y < c.height; y += 4) fillRect(this.background, c.width * k, Math.floor(c.width / 2) * k, y * k, k, k, 60, 90, 70);
    this.observationSpace = c.obsType === 'state' ? new Box({ shape: [PONG_STATE_SIZE], dtype: 'float32', low: -2, high: 2 }) : new Box({ shape: [c.height, c.width, 1], dtype: 'uint8', low: 0, high: 255 });
    this.actionSpace = c.mode === 'two-player' ? new MultiDiscrete([3, 3]) : new Discrete(3);
    this.spec = { id: 'pong', actionNames: PONG_ACTIONS, rewardThreshold: Math.max(1, c.pointsToWin - 2), options: { ...c } };
    const mid = (c.height - c.paddleHeight) / 2;
    this.s = { ballX: 0, ballY: 0, ballVx: 0, ballVy: 0, paddleY: [Math.floor(mid), mid], score: [0, 0], hits: [0, 0], aimError: 0, done: true };
  }

  reset(args: ResetArgs = {}): ResetResult<Uint8Array | Float32Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const c = this.config;
    const mid = (c.height - c.paddleHeight) / 2;
    const s = this.s;
    s.paddleY[0] = Math.floor(mid);
    s.paddleY[1] = Math.floor(mid);
    s.score[0] = 0;
    s.score[1] = 0;
    s.hits[0] = 0;
    s.hits[1] = 0;
    s.done = false;
    this.serve(this.rng.random() < 0.5 ? 0 : 1);
    return { obs: this.observe(), info: this.info(0) };
  }

  /** Puts the ball in the middle, moving toward `toward` (0 = right, 1 = left). */
  private serve(toward: 0 | 1): void {
    const c = this.config;
    const s = this.s;
    s.ballX = (c.width - c.ballSize) / 2;
    s.ballY = c.height / 4 + this.rng.random() * (c.height / 2 - c.ballSize);
    s.ballVx = toward === 0 ? c.ballSpeed : -c.ballSpeed;
    s.ballVy = (this.rng.random() * 1.5 - 0.75) * c.ballSpeed;
    this.drawAimError();
  }

  private drawAimError(): void {
    this.s.aimError = (this.rng.random() * 2 - 1) * (0.15 + 0.75 * (1 - this.config.botSkill)) * this.config.paddleHeight;
  }

  step(action: PongAction): StepResult<Uint8Array | Float32Array> {
    const c = this.config;
    const s = this.s;
    let a0: number;
    let a1 = 0;
    if (c.mode === 'two-player') {
      if (typeof action === 'number' || action == null || (action as ArrayLike<number>).length !== 2 || !isAction(action[0]) || !isAction(action[1])) {
        throw new InvalidActionError(formatError('pong.step', 'two actions [a0, a1], each in {0, 1, 2} (noop, up, down), in two-player mode', describe(action), 'pass e.g. [1, 0] or Int32Array.of(1, 0)'));
      }
      a0 = action[0]!;
      a1 = action[1]!;
    } else {
      if (!isAction(action)) {
        throw new InvalidActionError(formatError('pong.step', 'an action in {0, 1, 2} (noop, up, down)', describe(action), "pass an integer action index; use mode: 'two-player' to pass [a0, a1]"));
      }
      a0 = action;
    }
    if (s.done) return { obs: this.observe(), reward: 0, terminated: true, truncated: false, info: this.info(0) };

    const maxY = c.height - c.paddleHeight;
    s.paddleY[0] = clamp(s.paddleY[0] + (a0 === 1 ? -c.paddleSpeed : a0 === 2 ? c.paddleSpeed : 0), 0, maxY);
    if (c.mode === 'two-player') s.paddleY[1] = clamp(s.paddleY[1] + (a1 === 1 ? -c.paddleSpeed : a1 === 2 ? c.paddleSpeed : 0), 0, maxY);
    else this.moveBot();

    const bs = c.ballSize;
    const x0 = s.ballX;
    let x = x0 + s.ballVx;
    let y = s.ballY + s.ballVy;
    const maxBallY = c.height - bs;
    if (y < 0) {
      y = -y;
      s.ballVy = -s.ballVy;
    } else if (y > maxBallY) {
      y = 2 * maxBallY - y;
      s.ballVy = -s.ballVy;
    }
    if (s.ballVx > 0 && x0 + bs <= this.rightCol && x + bs > this.rightCol) {
      if (this.bounce(0, y)) x = 2 * (this.rightCol - bs) - x;
    } else if (s.ballVx < 0 && x0 >= this.leftCol + 1 && x < this.leftCol + 1) {
      if (this.bounce(1, y)) x = 2 * (this.leftCol + 1) - x;
    }
    s.ballX = x;
    s.ballY = y;

    let reward = 0;
    if (x >= c.width) reward = -1;
    else if (x + bs <= 0) reward = 1;
    if (reward !== 0) {
      const scorer = reward > 0 ? 0 : 1;
      s.score[scorer]++;
      if (s.score[scorer] >= c.pointsToWin) s.done = true;
      else this.serve(scorer === 0 ? 1 : 0);
    }
    if (c.trackReward > 0 && reward === 0) {
      reward -= (c.trackReward * Math.abs(s.paddleY[0] + c.paddleHeight / 2 - (s.ballY + bs / 2))) / c.height;
    }
    return { obs: this.observe(), reward, terminated: s.done, truncated: false, info: this.info(reward) };
  }

  /**
   * Returns the ball if `player`'s paddle overlaps it at row `y`; the hit offset from the paddle
   * centre sets the new vertical speed (edges: as fast as the horizontal speed).
   */
  private bounce(player: 0 | 1, y: number): boolean {
    const c = this.config;
    const s = this.s;
    const py = player === 0 ? s.paddleY[0] : Math.round(s.paddleY[1]);
    const bs = c.ballSize;
    if (y + bs <= py || y >= py + c.paddleHeight) return false;
    const offset = (y + bs / 2 - (py + c.paddleHeight / 2)) / ((c.paddleHeight + bs) / 2);
    const speed = Math.min(c.maxBallSpeed, Math.abs(s.ballVx) * c.ballSpeedup);
    s.ballVx = player === 0 ? -speed : speed;
    s.ballVy = offset * speed;
    s.hits[player]++;
    if (player === 0) this.drawAimError();
    return true;
  }

  private moveBot(): void {
    const c = this.config;
    const s = this.s;
    const skill = c.botSkill;
    const speed = c.paddleSpeed * (0.2 + 0.65 * skill);
    const reach = c.width * (0.3 + 0.7 * skill);
    const incoming = s.ballVx < 0 && s.ballX < reach;
    const target = incoming ? s.ballY + c.ballSize / 2 + s.aimError - c.paddleHeight / 2 : (c.height - c.paddleHeight) / 2;
    const maxStep = incoming ? speed : speed / 2;
    const dy = clamp(target - s.paddleY[1], -maxStep, maxStep);
    s.paddleY[1] = clamp(s.paddleY[1] + dy, 0, c.height - c.paddleHeight);
  }

  private info(reward: number): Info {
    const s = this.s;
    const info: Info = {
      ballX: s.ballX,
      ballY: s.ballY,
      ballVx: s.ballVx,
      ballVy: s.ballVy,
      paddleY: s.paddleY[0],
      opponentY: s.paddleY[1],
      score: [s.score[0], s.score[1]],
      hits: [s.hits[0], s.hits[1]],
    };
    if (this.config.mode === 'two-player') info.rewards = [reward, -reward];
    return info;
  }

  private observe(): Uint8Array | Float32Array {
    return this.observePlayer(0);
  }

  /**
   * The observation of the current state from `player`'s view (a fresh array): player 0's is what
   * `step` returns; player 1's is the mirrored game (ball x -> width - ballSize - x, paddles
   * swapped), drawn rather than flipped pixel by pixel, so that it equals player 0's observation
   * of the mirrored state exactly, also for a ball between pixels. One policy can play both sides.
   */
  observePlayer(player: 0 | 1): Uint8Array | Float32Array {
    const c = this.config;
    const s = this.s;
    if (player === 1) {
      const ballX = c.width - c.ballSize - s.ballX;
      if (c.obsType === 'state') return pongStateObs(ballX, s.ballY, -s.ballVx, s.ballVy, Math.round(s.paddleY[1]), s.paddleY[0], c);
      return this.drawObs(Math.round(s.paddleY[1]), s.paddleY[0], ballX, s.ballY);
    }
    if (c.obsType === 'state') return pongStateObs(s.ballX, s.ballY, s.ballVx, s.ballVy, s.paddleY[0], s.paddleY[1], c);
    return this.drawObs(s.paddleY[0], Math.round(s.paddleY[1]), s.ballX, s.ballY);
  }

  /** The pixel observation of one view: own paddle at the right, the opponent's at the left (integer tops). */
  private drawObs(ownTop: number, opponentTop: number, ballX: number, ballY: number): Uint8Array {
    const c = this.config;
    const w = c.width;
    const o = this.pool.take();
    for (let k = 0; k < c.paddleHeight; k++) {
      o[(ownTop + k) * w + this.rightCol] = PONG_INTENSITY.player;
      o[(opponentTop + k) * w + this.leftCol] = PONG_INTENSITY.opponent;
    }
    const bx = Math.floor(ballX);
    const by = Math.floor(ballY);
    for (let dy = 0; dy < c.ballSize; dy++) {
      const yy = by + dy;
      if (yy < 0 || yy >= c.height) continue;
      for (let dx = 0; dx < c.ballSize; dx++) {
        const xx = bx + dx;
        if (xx >= 0 && xx < w) o[yy * w + xx] = PONG_INTENSITY.ball;
      }
    }
    return o;
  }

  /** RGB frame: the field upscaled by `renderScale`, with a dashed centre line and score pips. */
  render(): RgbFrame {
    const c = this.config;
    const s = this.s;
    const k = c.renderScale;
    const width = c.width * k;
    const height = c.height * k;
    const data = this.background.slice();
    const mid = Math.floor(c.width / 2);
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < s.score[p]!; i++) {
        const x = p === 0 ? mid + 3 + 2 * i : mid - 3 - 2 * i;
        if (x >= 0 && x < c.width) fillRect(data, width, x * k, k, k, k, 230, 230, 230);
      }
    }
    fillRect(data, width, this.rightCol * k, s.paddleY[0] * k, k, c.paddleHeight * k, 90, 220, 110);
    fillRect(data, width, this.leftCol * k, Math.round(s.paddleY[1]) * k, k, c.paddleHeight * k, 240, 140, 60);
    // The ball is clipped to the field, as in the observation.
    const x0 = Math.max(0, Math.floor(s.ballX));
    const x1 = Math.min(c.width, Math.floor(s.ballX) + c.ballSize);
    const y0 = Math.max(0, Math.floor(s.ballY));
    const y1 = Math.min(c.height, Math.floor(s.ballY) + c.ballSize);
    fillRect(data, width, x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k, 255, 255, 255);
    return { width, height, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    const s = this.s;
    const game: PongGameState = { ...s, paddleY: [s.paddleY[0], s.paddleY[1]], score: [s.score[0], s.score[1]], hits: [s.hits[0], s.hits[1]] };
    return { game, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot.game as PongGameState;
    if (!g || typeof g.ballX !== 'number' || !Array.isArray(g.paddleY) || !Array.isArray(g.score) || !Array.isArray(g.hits)) {
      throw new InvalidConfigError(formatError('pong.setState', 'a snapshot taken by PongEnv.getState()', describe(g), 'restore a snapshot of a pong env'));
    }
    this.s = { ...g, paddleY: [g.paddleY[0], g.paddleY[1]], score: [g.score[0], g.score[1]], hits: [g.hits[0], g.hits[1]] };
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}

/** The `obsType: 'state'` vector (fresh array) of a game position, from player 0's view. */
export function pongStateObs(ballX: number, ballY: number, ballVx: number, ballVy: number, paddleY: number, opponentY: number, c: Pick<PongConfig, 'width' | 'height' | 'maxBallSpeed'>): Float32Array {
  const o = new Float32Array(PONG_STATE_SIZE);
  o[0] = clamp(ballX / c.width, -2, 2);
  o[1] = ballY / c.height;
  o[2] = ballVx / c.maxBallSpeed;
  o[3] = ballVy / c.maxBallSpeed;
  o[4] = paddleY / c.height;
  o[5] = opponentY / c.height;
  return o;
}

function isAction(a: unknown): a is number {
  return a === 0 || a === 1 || a === 2;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
