/**
 * Tank: a small MultiDiscrete-action game. A tank on a square grid (default 7 x 7) must shoot a
 * target standing on another cell. Each step the action is three parts,
 * `MultiDiscrete([5, 3, 2])`:
 * - move: 0 none, 1 up, 2 right, 3 down, 4 left (compass moves of one cell; blocked at the walls);
 * - turret: 0 turn left (counter-clockwise 45 degrees), 1 keep, 2 turn right (clockwise 45 degrees);
 * - fire: 0 no, 1 yes.
 * They apply in that order: move, turn, then fire. The turret points in one of 8 directions
 * (0 = up, then clockwise in 45-degree steps). A shot flies in a straight line from the tank in
 * the turret direction (diagonals included) to the wall and hits the target if the target lies on
 * that ray. Rewards: +1 for a hit (the episode terminates), -0.05 per shot that misses, -0.01
 * per step otherwise (hurry). The registry's TimeLimit truncates after 50 steps.
 *
 * Reset draws the tank cell, the turret direction and a target cell different from the tank's,
 * from the env's seeded RNG. Observation (float32, 12 values): the tank's column and row scaled
 * to [0, 1], the target's offset (dx, dy) divided by (size - 1), and the turret direction one-hot
 * (8). A uniformly random policy scores about -0.34 (it hits in 60% of episodes; 1000 seeded
 * episodes); a good policy hits within a few steps, about +0.95.
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import { frameSizeProblem } from '../../src/envs/frame-limits.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { SeededRng } from '../../src/envs/rng.js';
import { Box, MultiDiscrete } from '../../src/envs/spaces.js';
import { fillRect } from '../common/raster.js';

/** Names of every action value, part by part (`part:value`). */
export const TANK_ACTIONS = ['move:none', 'move:up', 'move:right', 'move:down', 'move:left', 'turret:left', 'turret:keep', 'turret:right', 'fire:no', 'fire:yes'];
/** Reward of a hit (ends the episode). */
export const TANK_HIT_REWARD = 1;
/** Reward of a shot that misses. */
export const TANK_MISS_REWARD = -0.05;
/** Reward of a step without a shot. */
export const TANK_STEP_REWARD = -0.01;

/** Column and row change of each turret direction (0 = up, clockwise). */
const DIRS: ReadonlyArray<readonly [number, number]> = [[0, -1], [1, -1], [1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1]];
/** Column and row change of each move. */
const MOVES: ReadonlyArray<readonly [number, number]> = [[0, 0], [0, -1], [1, 0], [0, 1], [-1, 0]];

export interface TankOptions {
  /** Side of the square grid in cells (default 7, at least 3). */
  size?: number;
  /** Side of one cell in rendered pixels (default 8). */
  cellSize?: number;
}

/** Default options of `tank`. */
export const TANK_DEFAULTS: Required<TankOptions> = { size: 7, cellSize: 8 };

/** Validates options, reporting every bad field at once. */
export function resolveTankConfig(options: TankOptions = {}): Required<TankOptions> {
  const { size = TANK_DEFAULTS.size, cellSize = TANK_DEFAULTS.cellSize, ...unknown } = options;
  const problems: string[] = [];
  const unknownKeys = Object.keys(unknown);
  if (unknownKeys.length) problems.push(`unknown options ${unknownKeys.join(', ')}`);
  if (!Number.isInteger(size) || size < 3 || size > 64) problems.push(`size ${describe(size)}`);
  if (!Number.isInteger(cellSize) || cellSize < 2 || cellSize > 64) problems.push(`cellSize ${describe(cellSize)}`);
  else if (!problems.length) {
    // Options can come from files (episodes, bundles): refuse frames no reader would accept.
    const tooLarge = frameSizeProblem(size * cellSize, size * cellSize);
    if (tooLarge) problems.push(`size x cellSize ${size * cellSize}: ${tooLarge}`);
  }
  if (problems.length) {
    throw new InvalidConfigError(formatError('tank', 'options size (integer in [3, 64]) and cellSize (integer in [2, 64]) only', problems.join('; '), 'fix or remove the listed options'));
  }
  return { size, cellSize };
}

interface TankState {
  x: number;
  y: number;
  turret: number;
  tx: number;
  ty: number;
  /** Cells of the last shot's ray (for render), empty when the last step did not fire. */
  shot: number[];
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v < hi;
}

export class TankEnv implements Env<Float32Array, Int32Array> {
  readonly observationSpace = new Box({ shape: [12], dtype: 'float32', low: [0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0], high: 1 });
  readonly actionSpace = new MultiDiscrete([5, 3, 2]);
  readonly spec: EnvSpec;
  private readonly size: number;
  private readonly cellSize: number;
  private s: TankState = { x: 0, y: 0, turret: 0, tx: 1, ty: 0, shot: [] };
  private rng = new SeededRng(0);

  constructor(options: TankOptions = {}) {
    const { size, cellSize } = resolveTankConfig(options);
    this.size = size;
    this.cellSize = cellSize;
    this.spec = { id: 'tank', actionNames: TANK_ACTIONS, maxEpisodeSteps: 50, rewardThreshold: 0.8, options: { size, cellSize } };
  }

  reset(args: ResetArgs = {}): ResetResult<Float32Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const n = this.size;
    const x = this.rng.int(0, n);
    const y = this.rng.int(0, n);
    const turret = this.rng.int(0, 8);
    // The target is drawn among the other n*n - 1 cells.
    let cell = this.rng.int(0, n * n - 1);
    if (cell >= y * n + x) cell++;
    this.s = { x, y, turret, tx: cell % n, ty: Math.floor(cell / n), shot: [] };
    return { obs: this.observe(), info: {} };
  }

  step(action: Int32Array): StepResult<Float32Array> {
    if (!this.actionSpace.contains(action)) {
      throw new InvalidActionError(formatError('tank.step', 'an action [move 0-4, turret 0-2, fire 0-1]', describe(action), 'pass an Int32Array of 3 indices'));
    }
    const n = this.size;
    const st = this.s;
    const [mx, my] = MOVES[action[0]!]!;
    const nx = st.x + mx;
    const ny = st.y + my;
    // A move into a wall or onto the target leaves the tank where it is.
    if (nx >= 0 && ny >= 0 && nx < n && ny < n && !(nx === st.tx && ny === st.ty)) {
      st.x = nx;
      st.y = ny;
    }
    st.turret = (st.turret + action[1]! - 1 + 8) % 8;
    st.shot = [];
    let reward = TANK_STEP_REWARD;
    let terminated = false;
    if (action[2] === 1) {
      reward = TANK_MISS_REWARD;
      const [dx, dy] = DIRS[st.turret]!;
      for (let cx = st.x + dx, cy = st.y + dy; cx >= 0 && cy >= 0 && cx < n && cy < n; cx += dx, cy += dy) {
        st.shot.push(cy * n + cx);
        if (cx === st.tx && cy === st.ty) {
          reward = TANK_HIT_REWARD;
          terminated = true;
          break;
        }
      }
    }
    return { obs: this.observe(), reward, terminated, truncated: false, info: {} };
  }

  private observe(): Float32Array {
    const st = this.s;
    const d = this.size - 1;
    const o = new Float32Array(12);
    o[0] = st.x / d;
    o[1] = st.y / d;
    o[2] = (st.tx - st.x) / d;
    o[3] = (st.ty - st.y) / d;
    o[4 + st.turret] = 1;
    return o;
  }

  /** Grey floor, red target, green tank with a dark barrel cell in the turret direction, yellow shot ray. */
  render(): RgbFrame {
    const n = this.size;
    const c = this.cellSize;
    const w = n * c;
    const data = new Uint8Array(w * w * 3);
    fillRect(data, w, 0, 0, w, w, 40, 40, 40);
    const st = this.s;
    for (const cell of st.shot) fillRect(data, w, (cell % n) * c + 1, Math.floor(cell / n) * c + 1, c - 2, c - 2, 220, 200, 60);
    fillRect(data, w, st.tx * c, st.ty * c, c, c, 200, 50, 50);
    fillRect(data, w, st.x * c, st.y * c, c, c, 60, 170, 70);
    // The barrel: a small square at the cell edge the turret points to.
    const [dx, dy] = DIRS[st.turret]!;
    const b = Math.max(1, Math.floor(c / 4));
    const bx = st.x * c + Math.round(((dx + 1) / 2) * (c - b));
    const by = st.y * c + Math.round(((dy + 1) / 2) * (c - b));
    fillRect(data, w, bx, by, b, b, 10, 60, 20);
    return { width: w, height: w, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    const st = this.s;
    return { game: { x: st.x, y: st.y, turret: st.turret, tx: st.tx, ty: st.ty, shot: [...st.shot] }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as Partial<TankState> | undefined;
    const n = this.size;
    const ok = g && isInt(g.x, 0, n) && isInt(g.y, 0, n) && isInt(g.turret, 0, 8) && isInt(g.tx, 0, n) && isInt(g.ty, 0, n) && !(g.x === g.tx && g.y === g.ty) && Array.isArray(g.shot) && g.shot.length <= n && g.shot.every((v) => isInt(v, 0, n * n));
    if (!ok) {
      throw new InvalidConfigError(formatError('tank.setState', `a snapshot {game: {x, y, turret, tx, ty, shot}} from getState() of a ${n} x ${n} tank`, describe(g), 'pass the output of getState()'));
    }
    this.s = { x: g.x!, y: g.y!, turret: g.turret!, tx: g.tx!, ty: g.ty!, shot: [...g.shot!] };
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}
