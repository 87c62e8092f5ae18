/**
 * Memory maze: a T-maze that only an agent with memory can solve reliably.
 *
 * Layout (`corridorLength` L, grid of L + 1 rows by 3 columns): the agent starts at the bottom of
 * a one-cell-wide corridor (column 1, row L); the junction is the top cell of the corridor (row 0);
 * the two arms are the cells left and right of the junction. At reset a cue, one of two colours,
 * is drawn from the env RNG: blue (cue 0) means the left arm is correct, yellow (cue 1) the right.
 *
 * Actions: 0 `forward` (one row up the corridor), 1 `left`, 2 `right`. Below the junction `left`
 * and `right` bump the corridor wall: the agent stays where it is and the step is spent (it counts
 * toward the time limit and earns `stepReward`). At the junction `forward` bumps the wall and
 * `left` / `right` enter an arm, which ends the episode (terminated): +1 for the arm matching the
 * cue, -1 for the other. Every step adds `stepReward` (default 0). The registry caps an episode at
 * 100 steps (truncated) so a wandering policy ends; pass `maxEpisodeSteps` to `make` for long
 * corridors.
 *
 * Observation: `[L + 1, 3, 4]` uint8, 0/1 per channel: 0 = agent, 1 = wall, 2 = blue cue,
 * 3 = yellow cue. The cue channels are all ones for the cue's colour in the observation returned by
 * `reset` and all zeros in every observation returned by `step`.
 *
 * Why a memoryless policy cannot beat 50%: every observation after the first is a function of the
 * agent's cell only (agent channel plus the fixed walls), which is the same for both cues. The arm is
 * chosen at the junction, and the junction's observation is identical whichever cue was shown, so
 * a policy that maps the current observation to an action (deterministic or stochastic) enters the
 * correct arm with probability exactly 1/2 over the uniformly drawn cue (or less, if it sometimes
 * never reaches the junction). Carrying the cue from step 0 to the junction needs memory (an RNN
 * state or a frame stack longer than the walk).
 *
 * `info.success` is on every step: true only on the step that enters the correct arm, so at the end
 * of an episode (terminated or truncated) it says whether the episode was a success.
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, Info, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { ObsPool } from '../../src/envs/obs-pool.js';
import { fillRect } from '../common/raster.js';

export interface MemoryMazeOptions {
  /** Forward moves from the start cell to the junction (cells, default 5, >= 1). */
  corridorLength?: number;
  /** Reward added on every step (default 0). */
  stepReward?: number;
  /** Pixels per cell in `render()` (default 16). */
  cellSize?: number;
}

export const MEMORY_MAZE_DEFAULTS = { corridorLength: 5, stepReward: 0, cellSize: 16 };
export type MemoryMazeConfig = typeof MEMORY_MAZE_DEFAULTS;

/** Action names; index = action. */
export const MEMORY_MAZE_ACTIONS = ['forward', 'left', 'right'];
export const MEMORY_MAZE_CHANNELS = ['agent', 'wall', 'cue-blue', 'cue-yellow'];
/** Cue values: which arm is correct. */
export const CUE_LEFT = 0;
export const CUE_RIGHT = 1;

/** Floor colours of the picture: after the first step, blue cue, yellow cue. */
const FLOOR_COLOURS: Array<[number, number, number]> = [[120, 120, 130], [60, 110, 240], [240, 210, 50]];

const FORWARD = 0;
const LEFT = 1;
const RIGHT = 2;

/** Validates options, reporting every bad field at once. */
export function resolveMemoryMazeConfig(options: MemoryMazeOptions = {}): MemoryMazeConfig {
  const known = Object.keys(MEMORY_MAZE_DEFAULTS);
  const errors: string[] = [];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) errors.push(`unknown options ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const c = { ...MEMORY_MAZE_DEFAULTS, ...options } as MemoryMazeConfig;
  if (!Number.isInteger(c.corridorLength) || c.corridorLength < 1 || c.corridorLength > 1000) errors.push(`corridorLength ${describe(c.corridorLength)} (an integer in [1, 1000])`);
  if (typeof c.stepReward !== 'number' || !Number.isFinite(c.stepReward)) errors.push(`stepReward ${describe(c.stepReward)} (a finite number)`);
  if (!Number.isInteger(c.cellSize) || c.cellSize < 1 || c.cellSize > 64) errors.push(`cellSize ${describe(c.cellSize)} (an integer in [1, 64])`);
  else if (!errors.length) {
    const tooLarge = frameSizeProblem(3 * c.cellSize, (c.corridorLength + 1) * c.cellSize);
    if (tooLarge) errors.push(`${tooLarge}: lower corridorLength or cellSize`);
  }
  if (errors.length) throw new InvalidConfigError(formatError('memory-maze', 'valid options', errors.join('; '), 'fix or remove the listed options'));
  return c;
}

interface MemoryMazeState {
  /** Agent row: corridorLength at the start, 0 at the junction. */
  row: number;
  cue: number;
  /** Steps taken this episode (0 until the first step: the cue is visible only then). */
  steps: number;
  /** -1 while in the maze, else the arm entered (CUE_LEFT / CUE_RIGHT). */
  arm: number;
  done: boolean;
}

export class MemoryMazeEnv implements Env<Uint8Array, number> {
  readonly observationSpace: Box<'uint8'>;
  readonly actionSpace = new Discrete(3);
  readonly spec: EnvSpec;
  readonly config: MemoryMazeConfig;
  readonly rows: number;
  private rng = new SeededRng(0);
  private s: MemoryMazeState;
  private readonly pool: ObsPool;
  /** Static map of the observation (wall channel), copied into every observation. */
  private readonly walls: Uint8Array;
  /** Pre-drawn mazes with the floor neutral, blue and yellow. */
  private readonly backgrounds: Uint8Array[];

  constructor(options: MemoryMazeOptions = {}) {
    this.config = resolveMemoryMazeConfig(options);
    this.rows = this.config.corridorLength + 1;
    this.observationSpace = new Box({ shape: [this.rows, 3, 4], dtype: 'uint8', low: 0, high: 1 });
    this.spec = { id: 'memory-maze', actionNames: MEMORY_MAZE_ACTIONS, rewardThreshold: 0.9, options: { ...this.config } };
    this.s = { row: this.config.corridorLength, cue: 0, steps: 0, arm: -1, done: true };
    this.pool = new ObsPool(this.rows * 3 * 4);
    this.walls = new Uint8Array(this.rows * 3 * 4);
    for (let y = 1; y < this.rows; y++) {
      this.walls[y * 3 * 4 + 1] = 1;
      this.walls[(y * 3 + 2) * 4 + 1] = 1;
    }
    const c = this.config.cellSize;
    this.backgrounds = FLOOR_COLOURS.map(([r, g, b]) => {
      const data = new Uint8Array(3 * c * this.rows * c * 3);
      fillRect(data, 3 * c, 0, 0, 3 * c, this.rows * c, 30, 30, 36);
      fillRect(data, 3 * c, 0, 0, 3 * c, c, r, g, b);
      fillRect(data, 3 * c, c, c, c, (this.rows - 1) * c, r, g, b);
      return data;
    });
  }

  /** Option `cue` (0 = blue/left, 1 = yellow/right) fixes the cue instead of drawing it. */
  reset(args: ResetArgs = {}): ResetResult<Uint8Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    let cue = this.rng.int(0, 2);
    const forced = args.options?.cue;
    if (forced !== undefined) {
      if (forced !== CUE_LEFT && forced !== CUE_RIGHT) {
        throw new InvalidConfigError(formatError('memory-maze.reset', 'options.cue to be 0 (blue, left) or 1 (yellow, right)', describe(forced), 'pass 0 or 1, or omit it to draw the cue'));
      }
      cue = forced;
    }
    this.s = { row: this.config.corridorLength, cue, steps: 0, arm: -1, done: false };
    return { obs: this.observe(), info: { cue, steps: 0, success: false } };
  }

  step(action: number): StepResult<Uint8Array> {
    if (action !== FORWARD && action !== LEFT && action !== RIGHT) {
      throw new InvalidActionError(formatError('memory-maze.step', 'an action in {0, 1, 2} (forward, left, right)', describe(action), 'pass an integer action index'));
    }
    const s = this.s;
    if (s.done) return { obs: this.observe(), reward: 0, terminated: true, truncated: false, info: this.info() };
    s.steps++;
    let reward = this.config.stepReward;
    if (s.row > 0) {
      if (action === FORWARD) s.row--;
    } else if (action !== FORWARD) {
      s.arm = action === LEFT ? CUE_LEFT : CUE_RIGHT;
      s.done = true;
      reward += s.arm === s.cue ? 1 : -1;
    }
    return { obs: this.observe(), reward, terminated: s.done, truncated: false, info: this.info() };
  }

  private info(): Info {
    const s = this.s;
    const info: Info = { steps: s.steps, success: s.done && s.arm === s.cue };
    if (s.done) {
      info.cue = s.cue;
      info.arm = s.arm;
    }
    return info;
  }

  private observe(): Uint8Array {
    const s = this.s;
    const o = this.pool.take();
    o.set(this.walls);
    // Inside an arm (terminal) the agent is drawn in that arm's cell.
    const x = s.arm === CUE_LEFT ? 0 : s.arm === CUE_RIGHT ? 2 : 1;
    o[(s.row * 3 + x) * 4] = 1;
    if (s.steps === 0) {
      const ch = 2 + s.cue;
      for (let i = 0; i < this.rows * 3; i++) o[i * 4 + ch] = 1;
    }
    return o;
  }

  /** RGB frame: walls dark, floor grey (blue or yellow before the first step), agent white. */
  render(): RgbFrame {
    const c = this.config.cellSize;
    const s = this.s;
    const width = 3 * c;
    const data = this.backgrounds[s.steps > 0 ? 0 : 1 + s.cue]!.slice();
    const agentX = s.arm === CUE_LEFT ? 0 : s.arm === CUE_RIGHT ? 2 : 1;
    const inset = Math.floor(c / 4);
    fillRect(data, width, agentX * c + inset, s.row * c + inset, c - 2 * inset, c - 2 * inset, 255, 255, 255);
    return { width, height: this.rows * c, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: { ...this.s }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot.game as MemoryMazeState;
    if (!g || !Number.isInteger(g.row) || g.row < 0 || g.row > this.config.corridorLength || (g.cue !== 0 && g.cue !== 1)) {
      throw new InvalidConfigError(formatError('memory-maze.setState', `a snapshot of a memory maze with corridorLength ${this.config.corridorLength}`, describe(g), 'restore a snapshot taken by getState() of an env with the same options'));
    }
    this.s = { ...g };
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
