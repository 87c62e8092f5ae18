/**
 * Tag: two chasers hunt one evader on a grid with obstacles; all three move at once. Rules (also
 * in docs/games.md#tag):
 * - `size` x `size` cells, `obstacles` wall cells placed at random at every reset, never cutting
 *   the free cells apart; the grid's edge is a wall too. Chasers start on random free cells, the
 *   evader on a random free cell at least `minStartDistance` (Manhattan) from both.
 * - Actions (`Discrete(5)`): 0 `stay`, 1 `up`, 2 `right`, 3 `down`, 4 `left`. A move into a wall
 *   or off the grid leaves the agent where it is.
 * - Simultaneous moves, resolved in this order: (1) every agent picks its target cell (its own
 *   cell when the move is blocked by a wall); (2) two chasers never share a cell: when their targets
 *   are equal, or they would swap cells, every chaser of the pair that moved stays instead, repeated
 *   until no two chasers collide (a chaser moving into the cell of one that stays is stopped too);
 *   the one exception is the evader's target cell, which both chasers may enter (both catch);
 *   (3) the evader is stopped by walls only; (4) a catch happens when a chaser ends in the evader's
 *   cell (either moving in, or the evader walking into it) or a chaser and the evader swap cells.
 * - Rewards: a catch gives each chaser +1 (shared, whichever caught) and the evader -1, and ends
 *   the episode (terminated for all). Every step without a catch gives each chaser `-stepReward`
 *   and the evader `+stepReward`; after `maxSteps` steps all three are truncated (the evader
 *   survived: with the defaults its return is +1).
 * - Observation per agent: `[size, size, 4]` uint8 0/1 channels like MinAtar's: 0 the agent
 *   itself, 1 the chasers, 2 the evader, 3 the walls. So the MinAtar CNN (and MLPs) apply, and
 *   one network can serve both chasers (each sees itself in channel 0). `view: 'centred'`: the same
 *   channels on a `2 * size - 1` square centred on the agent, beyond the edge read as walls.
 */
import { InvalidConfigError, formatError, describe } from '../../src/errors.js';
import type { RgbFrame } from '../../src/envs/env.js';
import { checkOptions } from '../../src/envs/game-env.js';
import type { SeededRng } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { ObsPool } from '../../src/envs/obs-pool.js';
import type { AgentDict } from '../../src/envs/multi/multi-agent-env.js';
import { MultiAgentGameEnv, type MultiAgentStepOutcome } from '../../src/envs/multi/game.js';
import { fillRect, solidFrame } from '../common/raster.js';

export const TAG_AGENTS = ['chaser_0', 'chaser_1', 'evader'] as const;
export const TAG_CHASERS = ['chaser_0', 'chaser_1'] as const;
export const TAG_ACTIONS = ['stay', 'up', 'right', 'down', 'left'];
/** Observation channels, in order. */
export const TAG_CHANNELS = ['self', 'chaser', 'evader', 'wall'] as const;

/** Cell offsets [dx, dy] per action index. */
const MOVES: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [0, -1],
  [1, 0],
  [0, 1],
  [-1, 0],
];

/** The options of tag: type, range and default of each (see checkOptions). */
export const TAG_OPTIONS = {
  /** Side of the grid (cells); at most 32 so observations stay MinAtar-sized. */
  size: { type: 'integer', default: 10, min: 5, max: 32 },
  /** Wall cells placed at every reset (at most a quarter of the grid). */
  obstacles: { type: 'integer', default: 10, min: 0 },
  /** Steps after which every agent is truncated. */
  maxSteps: { type: 'integer', default: 100, min: 1, max: 100_000 },
  /** Reward per step without a catch: -stepReward to each chaser, +stepReward to the evader. */
  stepReward: { type: 'number', default: 0.01, min: 0, max: 1 },
  /** Smallest Manhattan distance from the evader to either chaser at the start (cells). */
  minStartDistance: { type: 'integer', default: 4, min: 1 },
  /** Pixels per cell in `render()`. */
  renderScale: { type: 'integer', default: 16, min: 1, max: 64 },
  /**
   * `'grid'`: the whole grid as it is. `'centred'`: a `(2 * size - 1)` square grid centred on the
   * observing agent (cells beyond the edge read as walls), so what is near the agent always appears
   * in the same place of the picture.
   */
  view: { type: 'string', default: 'grid' },
} as const;

export type TagView = 'grid' | 'centred';
export type TagOptions = Partial<{ size: number; obstacles: number; maxSteps: number; stepReward: number; minStartDistance: number; renderScale: number; view: TagView }>;
export type TagConfig = Required<TagOptions>;

/** Validates options (every bad field at once) and fills in defaults. */
export function resolveTagConfig(options: TagOptions = {}): TagConfig {
  const c = checkOptions('tag', options as Record<string, unknown>, TAG_OPTIONS) as TagConfig;
  const problems: string[] = [];
  const maxObstacles = Math.floor((c.size * c.size) / 4);
  if (c.obstacles > maxObstacles) problems.push(`obstacles ${c.obstacles} (at most a quarter of the ${c.size}x${c.size} grid: ${maxObstacles})`);
  if (c.minStartDistance > c.size) problems.push(`minStartDistance ${c.minStartDistance} (at most size ${c.size})`);
  if (c.view !== 'grid' && c.view !== 'centred') problems.push(`view ${describe(c.view)} ('grid' | 'centred')`);
  if (problems.length) throw new InvalidConfigError(formatError('tag', "obstacles <= size*size/4, minStartDistance <= size and view 'grid' or 'centred'", problems.join('; '), 'lower the listed options or raise size'));
  return c;
}

export class TagEnv extends MultiAgentGameEnv<Uint8Array, number> {
  readonly config: TagConfig;
  /** 1 where a wall stands, row-major `y * size + x`. */
  private walls: Uint8Array;
  /** Cell index (`y * size + x`) of each agent, in TAG_AGENTS order. */
  private pos = new Int32Array(3);
  private readonly pool: ObsPool;

  constructor(options: TagOptions = {}) {
    const c = resolveTagConfig(options);
    const side = c.view === 'centred' ? 2 * c.size - 1 : c.size;
    const observationSpace = new Box({ shape: [side, side, TAG_CHANNELS.length], dtype: 'uint8', low: 0, high: 1 });
    const seat = { observationSpace, actionSpace: new Discrete(MOVES.length), actionNames: TAG_ACTIONS };
    super({ id: 'tag', agents: { chaser_0: seat, chaser_1: seat, evader: seat }, maxSteps: c.maxSteps, options: { ...c } });
    this.config = c;
    this.walls = new Uint8Array(c.size * c.size);
    this.pool = new ObsPool(observationSpace.size);
  }

  /** Cell indices of the agents (chaser_0, chaser_1, evader); a copy. */
  positions(): Int32Array {
    return this.pos.slice();
  }

  /** The wall grid (1 = wall, `y * size + x`); a copy. */
  wallGrid(): Uint8Array {
    return this.walls.slice();
  }

  /**
   * Puts the game in a given position (tests and scripted scenarios): walls as a 0/1 grid, the
   * agents' cells as `[x, y]`. Checked like a snapshot; the episode goes on from there.
   */
  setPosition(walls: ArrayLike<number>, cells: AgentDict<readonly [number, number]>): void {
    const n = this.config.size;
    this.restore({ walls: Array.from(walls), pos: TAG_AGENTS.map((a) => (cells[a] ? cells[a]![1] * n + cells[a]![0] : -1)) });
  }

  protected onReset(rng: SeededRng): void {
    const n = this.config.size;
    const cells = n * n;
    this.walls = new Uint8Array(cells);
    // Walls: cells in a random order, each kept only if the free cells stay connected.
    const order = shuffled(cells, rng);
    let placed = 0;
    for (const cell of order) {
      if (placed === this.config.obstacles) break;
      this.walls[cell] = 1;
      if (freeCellsConnected(this.walls, n)) placed++;
      else this.walls[cell] = 0;
    }
    const free = shuffled(cells, rng).filter((cell) => this.walls[cell] === 0);
    const [c0, c1] = [free[0]!, free[1]!];
    // The evader: the first free cell far enough from both chasers, or the farthest one if none is.
    let best = -1;
    let bestDistance = -1;
    for (const cell of free.slice(2)) {
      const d = Math.min(manhattan(cell, c0, n), manhattan(cell, c1, n));
      if (d >= this.config.minStartDistance) {
        best = cell;
        break;
      }
      if (d > bestDistance) {
        best = cell;
        bestDistance = d;
      }
    }
    this.pos[0] = c0;
    this.pos[1] = c1;
    this.pos[2] = best;
  }

  protected onStep(actions: AgentDict<number>): MultiAgentStepOutcome {
    const start = this.pos.slice();
    const target = TAG_AGENTS.map((a, i) => this.target(start[i]!, actions[a]!));
    const evaderFrom = start[2]!;
    const evaderTo = target[2]!;
    // Chasers never share a cell: a pair that collides (same cell or a swap) keeps its movers home,
    // until no pair collides (one stopped chaser can stop the other). The evader's cell is the
    // exception: two chasers closing in on it from both sides both catch it.
    for (let changed = true; changed; ) {
      changed = false;
      const same = target[0] === target[1] && target[0] !== evaderTo;
      const swap = target[0] === start[1] && target[1] === start[0];
      if (same || swap) {
        for (const i of [0, 1]) {
          if (target[i] !== start[i]) {
            target[i] = start[i]!;
            changed = true;
          }
        }
      }
    }
    const caughtBy = TAG_CHASERS.filter((_, i) => target[i] === evaderTo || (target[i] === evaderFrom && start[i] === evaderTo));
    for (let i = 0; i < 3; i++) this.pos[i] = target[i]!;
    const caught = caughtBy.length > 0;
    const r = this.config.stepReward;
    const chaserReward = caught ? 1 : -r;
    const evaderReward = caught ? -1 : r;
    const info = caught ? { caught: true, caughtBy: [...caughtBy] } : { caught: false };
    return {
      rewards: { chaser_0: chaserReward, chaser_1: chaserReward, evader: evaderReward },
      terminated: { chaser_0: caught, chaser_1: caught, evader: caught },
      infos: { chaser_0: { ...info }, chaser_1: { ...info }, evader: { ...info } },
    };
  }

  /** The cell an agent at `cell` wants to reach with `action`: its own when a wall or the edge blocks it. */
  private target(cell: number, action: number): number {
    const n = this.config.size;
    const [dx, dy] = MOVES[action]!;
    const x = (cell % n) + dx;
    const y = Math.floor(cell / n) + dy;
    if (x < 0 || y < 0 || x >= n || y >= n) return cell;
    const to = y * n + x;
    return this.walls[to] === 1 ? cell : to;
  }

  protected observe(agent: string): Uint8Array {
    const n = this.config.size;
    const C = TAG_CHANNELS.length;
    const o = this.pool.take();
    const self = this.pos[TAG_AGENTS.indexOf(agent as (typeof TAG_AGENTS)[number])]!;
    if (this.config.view === 'centred') {
      // Output cell (rx, ry) shows grid cell (x0 + rx, y0 + ry): the agent sits at (n - 1, n - 1).
      const side = 2 * n - 1;
      const x0 = (self % n) - (n - 1);
      const y0 = Math.floor(self / n) - (n - 1);
      for (let ry = 0; ry < side; ry++) {
        const y = y0 + ry;
        for (let rx = 0; rx < side; rx++) {
          const x = x0 + rx;
          if (x < 0 || y < 0 || x >= n || y >= n || this.walls[y * n + x] === 1) o[(ry * side + rx) * C + 3] = 1;
        }
      }
      const at = (cell: number): number => ((Math.floor(cell / n) - y0) * side + (cell % n) - x0) * C;
      o[at(this.pos[0]!) + 1] = 1;
      o[at(this.pos[1]!) + 1] = 1;
      o[at(this.pos[2]!) + 2] = 1;
      o[at(self)] = 1;
      return o;
    }
    for (let cell = 0; cell < n * n; cell++) if (this.walls[cell] === 1) o[cell * C + 3] = 1;
    o[this.pos[0]! * C + 1] = 1;
    o[this.pos[1]! * C + 1] = 1;
    o[this.pos[2]! * C + 2] = 1;
    o[self * C] = 1;
    return o;
  }

  protected state(): Record<string, unknown> {
    return { walls: Array.from(this.walls), pos: Array.from(this.pos) };
  }

  protected restore(game: Record<string, unknown>): void {
    const n = this.config.size;
    const { walls, pos } = game as { walls?: unknown; pos?: unknown };
    const okWalls = Array.isArray(walls) && walls.length === n * n && walls.every((w) => w === 0 || w === 1);
    const okPos = Array.isArray(pos) && pos.length === 3 && pos.every((p) => Number.isInteger(p) && p >= 0 && p < n * n && okWalls && (walls as number[])[p] === 0);
    // Chasers share a cell only at a double catch, on the evader's cell.
    const p = pos as number[];
    const chasersApart = okPos && (p[0] !== p[1] || p[0] === p[2]);
    if (!okWalls || !okPos || !chasersApart) {
      throw new InvalidConfigError(formatError('tag.setState', `walls: ${n * n} cells of 0/1 and pos: 3 free cells, the chasers' distinct unless both are on the evader's`, describe({ walls: Array.isArray(walls) ? `array(${walls.length})` : walls, pos }), 'pass the output of getState() of a tag env of the same size'));
    }
    this.walls = Uint8Array.from(walls as number[]);
    this.pos = Int32Array.from(pos as number[]);
  }

  /** The grid, `renderScale` px per cell: walls grey, chaser_0 red, chaser_1 orange, the evader green. */
  render(): RgbFrame {
    const n = this.config.size;
    const k = this.config.renderScale;
    const width = n * k;
    const data = solidFrame(width, width, 20, 24, 32);
    for (let cell = 0; cell < n * n; cell++) {
      if (this.walls[cell] === 1) fillRect(data, width, (cell % n) * k, Math.floor(cell / n) * k, k, k, 110, 110, 120);
    }
    const colours: Array<[number, number, number]> = [
      [230, 60, 60],
      [240, 150, 40],
      [70, 210, 110],
    ];
    // The evader is drawn last and smaller, so a catch shows both.
    for (let i = 0; i < 3; i++) {
      const cell = this.pos[i]!;
      const inset = i === 2 ? Math.floor(k / 4) : 0;
      const [r, g, b] = colours[i]!;
      fillRect(data, width, (cell % n) * k + inset, Math.floor(cell / n) * k + inset, k - 2 * inset, k - 2 * inset, r, g, b);
    }
    return { width, height: width, data };
  }
}

/** 0..count-1 in a random order (Fisher-Yates with the game's RNG). */
function shuffled(count: number, rng: SeededRng): number[] {
  const out = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function manhattan(a: number, b: number, n: number): number {
  return Math.abs((a % n) - (b % n)) + Math.abs(Math.floor(a / n) - Math.floor(b / n));
}

/** True when every free cell reaches every other through free cells (4-neighbourhood). */
function freeCellsConnected(walls: Uint8Array, n: number): boolean {
  const total = walls.length;
  const first = walls.indexOf(0);
  if (first < 0) return false;
  const seen = new Uint8Array(total);
  const stack = [first];
  seen[first] = 1;
  let reached = 1;
  while (stack.length) {
    const cell = stack.pop()!;
    const x = cell % n;
    const neighbours = [x > 0 ? cell - 1 : -1, x < n - 1 ? cell + 1 : -1, cell - n, cell + n];
    for (const nb of neighbours) {
      if (nb < 0 || nb >= total || seen[nb] || walls[nb]) continue;
      seen[nb] = 1;
      reached++;
      stack.push(nb);
    }
  }
  let free = 0;
  for (let i = 0; i < total; i++) if (walls[i] === 0) free++;
  return reached === free;
}
