/**
 * Catch (bsuite-style): a ball falls one row per step from a random column of a 10x5 grid; the
 * paddle in the bottom row moves left/stay/right. +1 when the ball lands on the paddle, -1 when it
 * misses; the episode ends when the ball reaches the bottom row (9 steps).
 * Written on `GameEnv` (seeding, action checks, step-after-done guard, state of the base part).
 */
import { EnvStateError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { RgbFrame } from '../../src/envs/env.js';
import { GameEnv, checkOptions, type StepOutcome } from '../../src/envs/game-env.js';
import type { SeededRng } from '../../src/envs/rng.js';
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

const CATCH_OPTIONS = {
  rows: { type: 'integer', default: 10, min: 3 },
  columns: { type: 'integer', default: 5, min: 2 },
  cellSize: { type: 'integer', default: 8, min: 1 },
} as const;

export class CatchEnv extends GameEnv<Uint8Array, number> {
  readonly rows: number;
  readonly columns: number;
  readonly cellSize: number;
  private ballX = 0;
  private ballY = 0;
  private paddleX = 0;

  constructor(options: CatchOptions = {}) {
    const { rows, columns, cellSize } = checkOptions('catch', options as Record<string, unknown>, CATCH_OPTIONS);
    // Options can come from files (episodes, bundles): refuse frames no reader would accept.
    const tooLarge = frameSizeProblem(columns * cellSize, rows * cellSize);
    if (tooLarge) throw new InvalidConfigError(formatError('catch', 'columns * cellSize by rows * cellSize within the frame limits', tooLarge, 'pass fewer rows or columns, or a smaller cellSize'));
    super({
      id: 'catch',
      observationSpace: new Box({ shape: [rows, columns, 1], dtype: 'uint8', low: 0, high: 1 }),
      actionSpace: new Discrete(3),
      actionNames: CATCH_ACTIONS,
      rewardThreshold: 0.9,
      options: { rows, columns, cellSize },
    });
    this.rows = rows;
    this.columns = columns;
    this.cellSize = cellSize;
  }

  protected onReset(rng: SeededRng): void {
    this.ballX = rng.int(0, this.columns);
    this.ballY = 0;
    this.paddleX = Math.floor(this.columns / 2);
  }

  protected onStep(action: number): StepOutcome {
    this.paddleX = Math.min(this.columns - 1, Math.max(0, this.paddleX + action - 1));
    this.ballY += 1;
    if (this.ballY < this.rows - 1) return { reward: 0, terminated: false };
    return { reward: this.ballX === this.paddleX ? 1 : -1, terminated: true };
  }

  protected observe(): Uint8Array {
    const o = this.freshObs() as Uint8Array;
    o[this.ballY * this.columns + this.ballX] = 1;
    o[(this.rows - 1) * this.columns + this.paddleX] = 1;
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
    fill(this.paddleX, this.rows - 1, 80, 160, 255);
    fill(this.ballX, this.ballY, 255, 220, 60);
    return { width, height, data };
  }

  protected state(): Record<string, unknown> {
    return { ballX: this.ballX, ballY: this.ballY, paddleX: this.paddleX };
  }

  protected restore(game: Record<string, unknown>): void {
    const { ballX, ballY, paddleX } = game;
    const inRange = (v: unknown, n: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < n;
    if (!inRange(ballX, this.columns) || !inRange(ballY, this.rows) || !inRange(paddleX, this.columns)) {
      throw new EnvStateError(formatError('catch.setState', `ballX, paddleX in [0, ${this.columns}) and ballY in [0, ${this.rows})`, `${describe(ballX)}, ${describe(paddleX)}, ${describe(ballY)}`, 'pass the output of getState()'));
    }
    this.ballX = ballX;
    this.ballY = ballY;
    this.paddleX = paddleX;
  }
}
