/**
 * Snake on a grid (default 9x9). The snake starts with `initialLength` cells in the middle row,
 * heading right. Actions are absolute headings (up, right, down, left); asking to reverse onto
 * the neck is ignored and the snake keeps its heading. Each step the head moves one cell:
 * - a wall or any body cell that is still occupied after the move kills the snake: -1, terminated
 *   (the tail cell is free unless the snake grows this step, so chasing the tail is legal);
 * - the fruit: +1, the snake grows by one and a new fruit appears on a uniformly chosen free cell
 *   (drawn from the env RNG); a full board is a win and terminates;
 * - `maxStepsWithoutFruit` steps without eating starve the snake: -1, terminated (a rule of the
 *   game, not a time limit, so it is `terminated`, not `truncated`).
 * Every step also adds `stepReward` (default 0; e.g. -0.01 to discourage loops).
 *
 * Observation: `[height, width, 3]` uint8, 0/1 per channel: 0 = head, 1 = body (every segment
 * but the head), 2 = fruit.
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, Info, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { ObsPool } from '../../src/envs/obs-pool.js';
import { fillRect, solidFrame } from '../common/raster.js';

export interface SnakeOptions {
  /** Grid columns (cells, default 9, >= 4). */
  width?: number;
  /** Grid rows (cells, default 9, >= 4). */
  height?: number;
  /** Length of the snake at reset (cells, default 3, 2..width-1). */
  initialLength?: number;
  /** Reward added on every step (default 0). */
  stepReward?: number;
  /** Steps without eating after which the snake starves (default width*height*2; null = never). */
  maxStepsWithoutFruit?: number | null;
  /** Pixels per cell in `render()` (default 8). */
  cellSize?: number;
}

/** Action names; index = action. Headings are absolute (screen up, right, down, left). */
export const SNAKE_ACTIONS = ['up', 'right', 'down', 'left'];
export const SNAKE_CHANNELS = ['head', 'body', 'fruit'];

/** Row and column offsets of each action. */
const DY = [-1, 0, 1, 0];
const DX = [0, 1, 0, -1];

/** How an episode ended (in `info.cause` of the last step). */
export type SnakeEndCause = 'wall' | 'self' | 'starved' | 'won';

interface SnakeGameState {
  /** Cell indices (y * width + x) from tail to head. */
  body: number[];
  heading: number;
  fruit: number;
  stepsSinceFruit: number;
  score: number;
  done: boolean;
}

export class SnakeEnv implements Env<Uint8Array, number> {
  readonly observationSpace: Box<'uint8'>;
  readonly actionSpace = new Discrete(4);
  readonly spec: EnvSpec;
  readonly width: number;
  readonly height: number;
  readonly initialLength: number;
  readonly stepReward: number;
  readonly maxStepsWithoutFruit: number | null;
  readonly cellSize: number;
  private rng = new SeededRng(0);
  /** Ring buffer of occupied cells: ring[(tailPos + k) % cells] is segment k counted from the tail. */
  private readonly ring: Int32Array;
  /** 1 where a segment is. */
  private readonly occupied: Uint8Array;
  private readonly cells: number;
  private readonly pool: ObsPool;
  private readonly background: Uint8Array;
  private tailPos = 0;
  private length = 0;
  private heading = 1;
  private fruit = -1;
  private stepsSinceFruit = 0;
  private score = 0;
  private done = true;

  constructor(options: SnakeOptions = {}) {
    const { width = 9, height = 9, initialLength = 3, stepReward = 0, cellSize = 8, maxStepsWithoutFruit: starve, ...unknown } = options;
    const maxStepsWithoutFruit = starve === undefined ? (Number.isInteger(width) && Number.isInteger(height) ? width * height * 2 : 1) : starve;
    const errors: string[] = [];
    const known = 'width, height, initialLength, stepReward, maxStepsWithoutFruit, cellSize';
    if (Object.keys(unknown).length) errors.push(`unknown options ${Object.keys(unknown).join(', ')} (known: ${known})`);
    if (!Number.isInteger(width) || width < 4 || width > 256) errors.push(`width ${describe(width)} (an integer in [4, 256])`);
    if (!Number.isInteger(height) || height < 4 || height > 256) errors.push(`height ${describe(height)} (an integer in [4, 256])`);
    if (!Number.isInteger(initialLength) || initialLength < 2 || initialLength > width - 1) errors.push(`initialLength ${describe(initialLength)} (an integer in [2, width - 1])`);
    if (typeof stepReward !== 'number' || !Number.isFinite(stepReward)) errors.push(`stepReward ${describe(stepReward)} (a finite number)`);
    if (maxStepsWithoutFruit !== null && (!Number.isInteger(maxStepsWithoutFruit) || (maxStepsWithoutFruit as number) < 1)) {
      errors.push(`maxStepsWithoutFruit ${describe(maxStepsWithoutFruit)} (a positive integer or null)`);
    }
    if (!Number.isInteger(cellSize) || cellSize < 1 || cellSize > 64) errors.push(`cellSize ${describe(cellSize)} (an integer in [1, 64])`);
    else if (!errors.length) {
      const tooLarge = frameSizeProblem(width * cellSize, height * cellSize);
      if (tooLarge) errors.push(`${tooLarge}: lower width, height or cellSize`);
    }
    if (errors.length) {
      throw new InvalidConfigError(formatError('snake', 'valid options', errors.join('; '), 'fix or remove the listed options'));
    }
    this.width = width;
    this.height = height;
    this.initialLength = initialLength;
    this.stepReward = stepReward;
    this.maxStepsWithoutFruit = maxStepsWithoutFruit as number | null;
    this.cellSize = cellSize;
    this.cells = width * height;
    this.ring = new Int32Array(this.cells);
    this.occupied = new Uint8Array(this.cells);
    this.pool = new ObsPool(this.cells * 3);
    this.background = solidFrame(width * cellSize, height * cellSize, 24, 24, 32);
    this.observationSpace = new Box({ shape: [height, width, 3], dtype: 'uint8', low: 0, high: 1 });
    this.spec = {
      id: 'snake',
      actionNames: SNAKE_ACTIONS,
      options: { width, height, initialLength, stepReward, maxStepsWithoutFruit, cellSize },
    };
  }

  /** Option `fruit` (cell index y*width+x) places the first fruit, for tests and demos. */
  reset(args: ResetArgs = {}): ResetResult<Uint8Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    this.occupied.fill(0);
    const y = Math.floor(this.height / 2);
    const x0 = Math.floor((this.width - this.initialLength) / 2);
    this.tailPos = 0;
    this.length = this.initialLength;
    for (let k = 0; k < this.initialLength; k++) {
      const c = y * this.width + x0 + k;
      this.ring[k] = c;
      this.occupied[c] = 1;
    }
    this.heading = 1;
    this.stepsSinceFruit = 0;
    this.score = 0;
    this.done = false;
    const fruit = args.options?.fruit;
    if (fruit !== undefined) {
      if (!Number.isInteger(fruit) || (fruit as number) < 0 || (fruit as number) >= this.cells || this.occupied[fruit as number]) {
        throw new InvalidConfigError(formatError('snake.reset', `options.fruit to be a free cell index in [0, ${this.cells})`, describe(fruit), 'pass y * width + x of a cell the snake does not cover'));
      }
      this.fruit = fruit as number;
    } else {
      this.placeFruit();
    }
    return { obs: this.observe(), info: this.info(null) };
  }

  step(action: number): StepResult<Uint8Array> {
    if (action !== 0 && action !== 1 && action !== 2 && action !== 3) {
      throw new InvalidActionError(formatError('snake.step', 'an action in {0, 1, 2, 3} (up, right, down, left)', describe(action), 'pass an integer action index'));
    }
    if (this.done) return { obs: this.observe(), reward: 0, terminated: true, truncated: false, info: this.info(null) };
    // Reversing onto the neck would be instant death; treat it as "keep going".
    if ((action + 2) % 4 !== this.heading) this.heading = action;
    const head = this.ring[(this.tailPos + this.length - 1) % this.cells]!;
    const hx = (head % this.width) + DX[this.heading]!;
    const hy = Math.floor(head / this.width) + DY[this.heading]!;
    let reward = this.stepReward;
    let cause: SnakeEndCause | null = null;
    if (hx < 0 || hy < 0 || hx >= this.width || hy >= this.height) {
      cause = 'wall';
    } else {
      const next = hy * this.width + hx;
      const eats = next === this.fruit;
      const tail = this.ring[this.tailPos]!;
      // The tail leaves its cell in the same step unless the snake grows, so moving into it is safe.
      if (this.occupied[next] && (eats || next !== tail)) {
        cause = 'self';
      } else {
        if (!eats) {
          this.occupied[tail] = 0;
          this.tailPos = (this.tailPos + 1) % this.cells;
          this.length--;
        }
        this.ring[(this.tailPos + this.length) % this.cells] = next;
        this.length++;
        this.occupied[next] = 1;
        if (eats) {
          reward += 1;
          this.score++;
          this.stepsSinceFruit = 0;
          if (this.length === this.cells) {
            this.fruit = -1;
            cause = 'won';
          } else {
            this.placeFruit();
          }
        } else {
          this.stepsSinceFruit++;
          if (this.maxStepsWithoutFruit !== null && this.stepsSinceFruit >= this.maxStepsWithoutFruit) cause = 'starved';
        }
      }
    }
    if (cause !== null) {
      this.done = true;
      if (cause !== 'won') reward -= 1;
    }
    return { obs: this.observe(), reward, terminated: this.done, truncated: false, info: this.info(cause) };
  }

  /** Uniform over free cells: pick the k-th free cell by a scan (no allocation). */
  private placeFruit(): void {
    let k = this.rng.int(0, this.cells - this.length);
    for (let c = 0; c < this.cells; c++) {
      if (!this.occupied[c] && k-- === 0) {
        this.fruit = c;
        return;
      }
    }
  }

  private info(cause: SnakeEndCause | null): Info {
    const info: Info = { score: this.score, length: this.length, stepsSinceFruit: this.stepsSinceFruit };
    if (cause !== null) info.cause = cause;
    return info;
  }

  private observe(): Uint8Array {
    const o = this.pool.take();
    for (let k = 0; k < this.length - 1; k++) o[this.ring[(this.tailPos + k) % this.cells]! * 3 + 1] = 1;
    o[this.ring[(this.tailPos + this.length - 1) % this.cells]! * 3] = 1;
    if (this.fruit >= 0) o[this.fruit * 3 + 2] = 1;
    return o;
  }

  /** RGB frame: dark background, green body, bright head, red fruit; `cellSize` px per cell. */
  render(): RgbFrame {
    const c = this.cellSize;
    const width = this.width * c;
    const data = this.background.slice();
    const inset = c >= 4 ? 1 : 0;
    const fill = (cell: number, r: number, g: number, b: number, pad: number): void => {
      fillRect(data, width, (cell % this.width) * c + pad, Math.floor(cell / this.width) * c + pad, c - 2 * pad, c - 2 * pad, r, g, b);
    };
    for (let k = 0; k < this.length - 1; k++) fill(this.ring[(this.tailPos + k) % this.cells]!, 40, 170, 70, inset);
    fill(this.ring[(this.tailPos + this.length - 1) % this.cells]!, 150, 255, 120, 0);
    if (this.fruit >= 0) fill(this.fruit, 230, 50, 50, inset);
    return { width, height: this.height * c, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    const body: number[] = [];
    for (let k = 0; k < this.length; k++) body.push(this.ring[(this.tailPos + k) % this.cells]!);
    const game: SnakeGameState = { body, heading: this.heading, fruit: this.fruit, stepsSinceFruit: this.stepsSinceFruit, score: this.score, done: this.done };
    return { game, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot.game as SnakeGameState;
    if (!g || !Array.isArray(g.body) || g.body.length < 1 || g.body.length > this.cells || g.body.some((c) => !Number.isInteger(c) || c < 0 || c >= this.cells)) {
      throw new InvalidConfigError(formatError('snake.setState', `a snapshot of this ${this.width}x${this.height} snake`, describe(g), 'restore a snapshot taken by getState() of an env with the same size'));
    }
    this.occupied.fill(0);
    this.tailPos = 0;
    this.length = g.body.length;
    g.body.forEach((c, k) => {
      this.ring[k] = c;
      this.occupied[c] = 1;
    });
    this.heading = g.heading;
    this.fruit = g.fruit;
    this.stepsSinceFruit = g.stepsSinceFruit;
    this.score = g.score;
    this.done = g.done;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
