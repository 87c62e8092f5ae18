/**
 * Beacon: a small game with a Dict observation (an image and a vector), for the Dict path of the
 * agents (`src/envs/dict-obs.ts`, SB3's `MultiInputPolicy`). An agent on a square grid (default
 * 8 x 8) walks to a beacon on another cell. Actions, `Discrete(4)`: 0 up, 1 right, 2 down,
 * 3 left (one cell; blocked at the walls). Reaching the beacon gives +1 and ends the episode;
 * every other step gives -0.01. The registry's TimeLimit truncates after 30 steps.
 *
 * Observation, `Dict`:
 * - `grid`: uint8 [size, size, 2], 0/1 planes: channel 0 the agent's cell, channel 1 the beacon's;
 * - `offset`: float32 [2], the beacon's offset from the agent (dx, dy) divided by (size - 1).
 * `make('beacon')` hands them out flattened (keys sorted: grid, then offset) as one Float32Array.
 *
 * Reset draws the agent's cell, then the beacon's among the other cells, from the env's seeded
 * RNG. A good policy walks the Manhattan distance d and scores 1 - 0.01 (d - 1) (at least 0.87 on
 * 8 x 8); a uniformly random policy scores about -0.08 (it reaches the beacon in 19% of
 * episodes; 1000 seeded episodes).
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, Dict, Discrete } from '../../src/envs/spaces.js';
import { fillRect } from '../common/raster.js';

/** Names of the actions, index = action. */
export const BEACON_ACTIONS = ['up', 'right', 'down', 'left'];
/** Reward for reaching the beacon (ends the episode). */
export const BEACON_REWARD = 1;
/** Reward of every other step. */
export const BEACON_STEP_REWARD = -0.01;
/** Episode cap applied by the registry (steps). */
export const BEACON_MAX_STEPS = 30;

/** Column and row change of each action. */
const MOVES: ReadonlyArray<readonly [number, number]> = [[0, -1], [1, 0], [0, 1], [-1, 0]];

export interface BeaconOptions {
  /** Side of the square grid in cells (default 8, in [3, 32]). */
  size?: number;
  /** Side of one cell in rendered pixels (default 8). */
  cellSize?: number;
}

/** Default options of `beacon`. */
export const BEACON_DEFAULTS: Required<BeaconOptions> = { size: 8, cellSize: 8 };

/** Validates options, reporting every bad field at once. */
export function resolveBeaconConfig(options: BeaconOptions = {}): Required<BeaconOptions> {
  const { size = BEACON_DEFAULTS.size, cellSize = BEACON_DEFAULTS.cellSize, ...unknown } = options;
  const problems: string[] = [];
  const unknownKeys = Object.keys(unknown);
  if (unknownKeys.length) problems.push(`unknown options ${unknownKeys.join(', ')}`);
  if (!Number.isInteger(size) || size < 3 || size > 32) problems.push(`size ${describe(size)}`);
  if (!Number.isInteger(cellSize) || cellSize < 2 || cellSize > 64) problems.push(`cellSize ${describe(cellSize)}`);
  else if (!problems.length) {
    // Options can come from files (episodes, bundles): refuse frames no reader would accept.
    const tooLarge = frameSizeProblem(size * cellSize, size * cellSize);
    if (tooLarge) problems.push(`size x cellSize ${size * cellSize}: ${tooLarge}`);
  }
  if (problems.length) {
    throw new InvalidConfigError(formatError('beacon', 'options size (integer in [3, 32]) and cellSize (integer in [2, 64]) only', problems.join('; '), 'fix or remove the listed options'));
  }
  return { size, cellSize };
}

/** One Dict observation of beacon. */
export interface BeaconObs {
  grid: Uint8Array;
  offset: Float32Array;
  [key: string]: Uint8Array | Float32Array;
}

interface BeaconState {
  x: number;
  y: number;
  bx: number;
  by: number;
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v < hi;
}

export class BeaconEnv implements Env<Record<string, unknown>, number> {
  readonly observationSpace: Dict;
  readonly actionSpace = new Discrete(4);
  readonly spec: EnvSpec;
  private readonly size: number;
  private readonly cellSize: number;
  private s: BeaconState = { x: 0, y: 0, bx: 1, by: 0 };
  private rng = new SeededRng(0);

  constructor(options: BeaconOptions = {}) {
    const { size, cellSize } = resolveBeaconConfig(options);
    this.size = size;
    this.cellSize = cellSize;
    this.observationSpace = new Dict({
      grid: new Box({ shape: [size, size, 2], dtype: 'uint8', low: 0, high: 1 }),
      offset: new Box({ shape: [2], dtype: 'float32', low: -1, high: 1 }),
    });
    this.spec = { id: 'beacon', actionNames: BEACON_ACTIONS, maxEpisodeSteps: BEACON_MAX_STEPS, rewardThreshold: 0.8, options: { size, cellSize } };
  }

  reset(args: ResetArgs = {}): ResetResult<BeaconObs> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const n = this.size;
    const x = this.rng.int(0, n);
    const y = this.rng.int(0, n);
    // The beacon is drawn among the other n*n - 1 cells.
    let cell = this.rng.int(0, n * n - 1);
    if (cell >= y * n + x) cell++;
    this.s = { x, y, bx: cell % n, by: Math.floor(cell / n) };
    return { obs: this.observe(), info: {} };
  }

  step(action: number): StepResult<BeaconObs> {
    if (!this.actionSpace.contains(action)) throw new InvalidActionError(formatError('beacon.step', 'an action in 0-3 (up, right, down, left)', describe(action), 'pass an integer action'));
    const n = this.size;
    const st = this.s;
    const [dx, dy] = MOVES[action]!;
    st.x = Math.min(n - 1, Math.max(0, st.x + dx));
    st.y = Math.min(n - 1, Math.max(0, st.y + dy));
    const reached = st.x === st.bx && st.y === st.by;
    return { obs: this.observe(), reward: reached ? BEACON_REWARD : BEACON_STEP_REWARD, terminated: reached, truncated: false, info: {} };
  }

  private observe(): BeaconObs {
    const n = this.size;
    const st = this.s;
    const grid = new Uint8Array(n * n * 2);
    grid[(st.y * n + st.x) * 2] = 1;
    grid[(st.by * n + st.bx) * 2 + 1] = 1;
    const d = n - 1;
    return { grid, offset: Float32Array.of((st.bx - st.x) / d, (st.by - st.y) / d) };
  }

  /** Dark floor, yellow beacon, blue agent (drawn over the beacon once it is reached). */
  render(): RgbFrame {
    const n = this.size;
    const c = this.cellSize;
    const w = n * c;
    const data = new Uint8Array(w * w * 3);
    fillRect(data, w, 0, 0, w, w, 30, 30, 40);
    const st = this.s;
    fillRect(data, w, st.bx * c, st.by * c, c, c, 230, 200, 40);
    fillRect(data, w, st.x * c + 1, st.y * c + 1, c - 2, c - 2, 60, 120, 230);
    return { width: w, height: w, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    const st = this.s;
    return { game: { x: st.x, y: st.y, bx: st.bx, by: st.by }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as Partial<BeaconState> | undefined;
    const n = this.size;
    const ok = g && isInt(g.x, 0, n) && isInt(g.y, 0, n) && isInt(g.bx, 0, n) && isInt(g.by, 0, n);
    if (!ok) throw new InvalidConfigError(formatError('beacon.setState', `a snapshot {game: {x, y, bx, by}} from getState() of a ${n} x ${n} beacon`, describe(g), 'pass the output of getState()'));
    this.s = { x: g.x!, y: g.y!, bx: g.bx!, by: g.by! };
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
