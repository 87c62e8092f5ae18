/**
 * Catch (bsuite-style): a ball falls one row per step from a random column of a 10x5 grid; the
 * paddle in the bottom row moves left/stay/right. +1 when the ball lands on the paddle, -1 when it
 * misses; the episode ends when the ball reaches the bottom row (9 steps).
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';

export interface CatchOptions {
  /** Grid rows (default 10). */
  rows?: number;
  /** Grid columns (default 5). */
  columns?: number;
  /** Pixels per cell in `render()` (default 8). */
  cellSize?: number;
}

export const CATCH_ACTIONS = ['left', 'stay', 'right'];

interface CatchState {
  ballX: number;
  ballY: number;
  paddleX: number;
  done: boolean;
}

export class CatchEnv implements Env<Uint8Array, number> {
  readonly observationSpace: Box<'uint8'>;
  readonly actionSpace = new Discrete(3);
  readonly spec: EnvSpec;
  readonly rows: number;
  readonly columns: number;
  readonly cellSize: number;
  private rng = new SeededRng(0);
  private s: CatchState = { ballX: 0, ballY: 0, paddleX: 0, done: true };

  constructor(options: CatchOptions = {}) {
    const { rows = 10, columns = 5, cellSize = 8, ...unknown } = options;
    const bad = Object.keys(unknown);
    if (bad.length) throw new InvalidConfigError(formatError('catch', 'options among rows, columns, cellSize', bad.join(', '), 'remove the unknown options'));
    for (const [k, v, min] of [['rows', rows, 3], ['columns', columns, 2], ['cellSize', cellSize, 1]] as const) {
      if (!Number.isInteger(v) || v < min) throw new InvalidConfigError(formatError('catch', `${k} to be an integer >= ${min}`, describe(v), `pass e.g. ${k}: ${min + 2}`));
    }
    // Options can come from files (episodes, bundles): refuse frames no reader would accept.
    const tooLarge = frameSizeProblem(columns * cellSize, rows * cellSize);
    if (tooLarge) throw new InvalidConfigError(formatError('catch', 'columns * cellSize by rows * cellSize within the frame limits', tooLarge, 'pass fewer rows or columns, or a smaller cellSize'));
    this.rows = rows;
    this.columns = columns;
    this.cellSize = cellSize;
    this.observationSpace = new Box({ shape: [rows, columns, 1], dtype: 'uint8', low: 0, high: 1 });
    this.spec = { id: 'catch', actionNames: CATCH_ACTIONS, rewardThreshold: 0.9, options: { rows, columns, cellSize } };
  }

  reset(args: ResetArgs = {}): ResetResult<Uint8Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    this.s = { ballX: this.rng.int(0, this.columns), ballY: 0, paddleX: Math.floor(this.columns / 2), done: false };
    return { obs: this.observe(), info: {} };
  }

  step(action: number): StepResult<Uint8Array> {
    if (action !== 0 && action !== 1 && action !== 2) {
      throw new InvalidActionError(formatError('catch.step', 'an action in {0, 1, 2} (left, stay, right)', describe(action), 'pass an integer action index'));
    }
    const s = this.s;
    if (s.done) return { obs: this.observe(), reward: 0, terminated: true, truncated: false, info: {} };
    s.paddleX = Math.min(this.columns - 1, Math.max(0, s.paddleX + action - 1));
    s.ballY += 1;
    let reward = 0;
    if (s.ballY === this.rows - 1) {
      reward = s.ballX === s.paddleX ? 1 : -1;
      s.done = true;
    }
    return { obs: this.observe(), reward, terminated: s.done, truncated: false, info: {} };
  }

  private observe(): Uint8Array {
    const o = new Uint8Array(this.rows * this.columns);
    o[this.s.ballY * this.columns + this.s.ballX] = 1;
    o[(this.rows - 1) * this.columns + this.s.paddleX] = 1;
    return o;
  }

  render(): RgbFrame {
    const c = this.cellSize;
    const width = this.columns * c;
    const height = this.rows * c;
    const data = new Uint8Array(width * height * 3);
    const fill = (cx: number, cy: number, r: number, g: number, b: number): void => {
      for (let y = cy * c; y < (cy + 1) * c; y++) {
        for (let x = cx * c; x < (cx + 1) * c; x++) {
          const i = (y * width + x) * 3;
          data[i] = r;
          data[i + 1] = g;
          data[i + 2] = b;
        }
      }
    };
    fill(this.s.paddleX, this.rows - 1, 80, 160, 255);
    fill(this.s.ballX, this.s.ballY, 255, 220, 60);
    return { width, height, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: { ...this.s }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    this.s = { ...(snapshot.game as CatchState) };
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
