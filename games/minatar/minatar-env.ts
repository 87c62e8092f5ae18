/**
 * `MinAtarEnv`: the MinAtar wrapper semantics (spec section 1) around one of the five games.
 * One numpy-legacy MT19937 stream is shared by the sticky-action draw and the game, in the
 * original's order, so a seed means the same game as in the original.
 */
import { InvalidActionError, InvalidConfigError, formatError, describe } from '../../src/errors.js';
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../src/envs/env.js';
import { MT19937 } from '../../src/envs/rng.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import { AsterixGame } from './asterix.js';
import { BreakoutGame } from './breakout.js';
import { FreewayGame } from './freeway.js';
import { FULL_ACTION_NAMES, GRID, type GameOptions, type MinAtarGame, type MinAtarGameName } from './game.js';
import { ObsPool } from '../../src/envs/obs-pool.js';
import { drawGrid, paletteBytes } from './palette.js';
import { SeaquestGame } from './seaquest.js';
import { SpaceInvadersGame } from './space-invaders.js';

export const MINATAR_GAMES: readonly MinAtarGameName[] = ['asterix', 'breakout', 'freeway', 'seaquest', 'space_invaders'];

/** Options of a MinAtar env. */
export interface MinAtarOptions {
  /** Which game. */
  game: MinAtarGameName;
  /** Probability in [0, 1] that the previous applied action repeats instead of the agent's (default 0.1). */
  stickyActionProb?: number;
  /** Difficulty ramping in asterix, seaquest and space_invaders (default true). */
  difficultyRamping?: boolean;
  /** true: actions are the game's minimal set; false: the full 6 (default true). */
  minimalActions?: boolean;
  /** 'grid': `[10, 10, C]` uint8 0/1 channels; 'rgb': `[10 * cellSize, 10 * cellSize, 3]` pixels (default 'grid'). */
  obsType?: 'grid' | 'rgb';
  /** Pixels per grid cell in rgb observations and `render()` (default 8). */
  cellSize?: number;
}

export type ResolvedMinAtarConfig = Required<MinAtarOptions>;

/** Defaults of every option but `game`. */
export const MINATAR_DEFAULTS: Omit<ResolvedMinAtarConfig, 'game'> = {
  stickyActionProb: 0.1,
  difficultyRamping: true,
  minimalActions: true,
  obsType: 'grid',
  cellSize: 8,
};

const KNOWN = ['game', 'stickyActionProb', 'difficultyRamping', 'minimalActions', 'obsType', 'cellSize'];

/** Fills defaults and validates; reports every bad field in one `InvalidConfigError`. */
export function resolveMinAtarConfig(partial: Partial<MinAtarOptions> & Record<string, unknown>): ResolvedMinAtarConfig {
  const c = { ...MINATAR_DEFAULTS, ...partial } as ResolvedMinAtarConfig & Record<string, unknown>;
  const problems: string[] = [];
  const unknown = Object.keys(partial).filter((k) => !KNOWN.includes(k));
  if (unknown.length) problems.push(`unknown options ${unknown.join(', ')}`);
  if (!MINATAR_GAMES.includes(c.game)) problems.push(`game ${describe(c.game)} (one of ${MINATAR_GAMES.join(', ')})`);
  if (typeof c.stickyActionProb !== 'number' || !(c.stickyActionProb >= 0 && c.stickyActionProb <= 1)) problems.push(`stickyActionProb ${describe(c.stickyActionProb)} (a number in [0, 1])`);
  if (typeof c.difficultyRamping !== 'boolean') problems.push(`difficultyRamping ${describe(c.difficultyRamping)} (a boolean)`);
  if (typeof c.minimalActions !== 'boolean') problems.push(`minimalActions ${describe(c.minimalActions)} (a boolean)`);
  if (c.obsType !== 'grid' && c.obsType !== 'rgb') problems.push(`obsType ${describe(c.obsType)} ('grid' or 'rgb')`);
  if (!Number.isInteger(c.cellSize) || c.cellSize < 1 || c.cellSize > 64) problems.push(`cellSize ${describe(c.cellSize)} (an integer in 1..64)`);
  if (problems.length) {
    throw new InvalidConfigError(formatError('minatar', 'valid MinAtar options', problems.join('; '), 'fix or remove the listed options'));
  }
  const { game, stickyActionProb, difficultyRamping, minimalActions, obsType, cellSize } = c;
  return { game, stickyActionProb, difficultyRamping, minimalActions, obsType, cellSize };
}

/** Builds the bare game logic of a MinAtar game (no sticky actions, no RNG ownership). */
export function createMinAtarGame(name: MinAtarGameName, options: GameOptions): MinAtarGame {
  switch (name) {
    case 'asterix': return new AsterixGame(options);
    case 'breakout': return new BreakoutGame(options);
    case 'freeway': return new FreewayGame(options);
    case 'seaquest': return new SeaquestGame(options);
    case 'space_invaders': return new SpaceInvadersGame(options);
    default: throw new InvalidConfigError(formatError('minatar', `a game among ${MINATAR_GAMES.join(', ')}`, describe(name), 'pick one of the listed games'));
  }
}

/**
 * A MinAtar game as an `Env`. Every `step` draws the sticky `rand()` first (even with probability
 * 0, even when the game has ended), then the game draws; `lastAction` survives `reset`.
 * `reset({seed})` reseeds the single shared stream; `reset()` continues it. A never-seeded env
 * starts from MT19937(0). MinAtar never truncates.
 */
export class MinAtarEnv implements Env<Uint8Array, number> {
  readonly observationSpace: Box<'uint8'>;
  readonly actionSpace: Discrete;
  readonly spec: EnvSpec;
  readonly config: ResolvedMinAtarConfig;
  /** Channel names of the grid observation. */
  readonly channels: readonly string[];
  private readonly game: MinAtarGame;
  private readonly rng = new MT19937(0);
  private lastApplied = 0;
  /** Agent action index -> full MinAtar action id. */
  private readonly actionMap: Int32Array;
  private readonly nActions: number;
  private readonly sticky: number;
  private readonly gridSize: number;
  private readonly rgb: boolean;
  /** Grid scratch for rgb observations and render (never handed out). */
  private readonly scratch: Uint8Array;
  private readonly palette: Uint8Array;
  private readonly frameSide: number;
  private readonly pool: ObsPool;

  constructor(options: MinAtarOptions) {
    const cfg = resolveMinAtarConfig(options as MinAtarOptions & Record<string, unknown>);
    this.config = cfg;
    this.game = createMinAtarGame(cfg.game, { ramping: cfg.difficultyRamping });
    // The game needs a state before the first reset; this must not consume the env's stream.
    this.game.reset(new MT19937(0));
    this.channels = this.game.channels;
    const C = this.channels.length;
    this.gridSize = GRID * GRID * C;
    this.scratch = new Uint8Array(this.gridSize);
    this.palette = paletteBytes(cfg.game);
    this.frameSide = GRID * cfg.cellSize;
    this.rgb = cfg.obsType === 'rgb';
    this.sticky = cfg.stickyActionProb;
    const frameBytes = this.frameSide * this.frameSide * 3;
    this.pool = this.rgb ? new ObsPool(frameBytes, 8 * frameBytes) : new ObsPool(this.gridSize);
    const ids = cfg.minimalActions ? [...this.game.minimalActions] : [0, 1, 2, 3, 4, 5];
    this.actionMap = Int32Array.from(ids);
    this.nActions = ids.length;
    this.actionSpace = new Discrete(ids.length);
    this.observationSpace = this.rgb
      ? new Box({ shape: [this.frameSide, this.frameSide, 3], dtype: 'uint8', low: 0, high: 255 })
      : new Box({ shape: [GRID, GRID, C], dtype: 'uint8', low: 0, high: 1 });
    this.spec = {
      id: `minatar/${cfg.game}`,
      actionNames: ids.map((a) => FULL_ACTION_NAMES[a]!),
      options: { ...cfg },
    };
  }

  /** The full action id applied by the last step (after sticky substitution); 0 before any step. */
  get lastAction(): number {
    return this.lastApplied;
  }

  /** Full action ids of the agent's actions, by agent index. */
  get actionIds(): number[] {
    return Array.from(this.actionMap);
  }

  reset(args: ResetArgs = {}): ResetResult<Uint8Array> {
    if (args.seed !== undefined) this.rng.seed(args.seed);
    this.game.reset(this.rng);
    return { obs: this.observe(), info: {} };
  }

  step(action: number): StepResult<Uint8Array> {
    if (!(action >= 0 && action < this.nActions && (action | 0) === action)) {
      throw new InvalidActionError(formatError(`${this.spec.id}.step`, `an integer action in [0, ${this.nActions}) (${this.spec.actionNames.join(', ')})`, describe(action), 'pass an action index of the action space'));
    }
    let a = this.actionMap[action]!;
    if (this.rng.rand() < this.sticky) a = this.lastApplied;
    this.lastApplied = a;
    const reward = this.game.step(a);
    return { obs: this.observe(), reward, terminated: this.game.terminal, truncated: false, info: {} };
  }

  private observe(): Uint8Array {
    if (!this.rgb) {
      const grid = this.pool.take();
      this.game.writeObs(grid);
      return grid;
    }
    return this.drawFrame();
  }

  private drawFrame(): Uint8Array {
    const grid = this.scratch;
    grid.fill(0);
    this.game.writeObs(grid);
    const frame = this.rgb ? this.pool.take() : new Uint8Array(this.frameSide * this.frameSide * 3);
    drawGrid(grid, this.channels.length, this.palette, this.config.cellSize, frame);
    return frame;
  }

  /** The current state as pixels (the same picture as an rgb observation). */
  render(): RgbFrame {
    return { width: this.frameSide, height: this.frameSide, data: this.drawFrame() };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: { state: this.game.getState(), lastAction: this.lastApplied }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot.game as { state: Record<string, unknown>; lastAction: number } | undefined;
    if (!g || typeof g !== 'object' || typeof g.lastAction !== 'number' || !g.state || !snapshot.rng) {
      throw new InvalidConfigError(formatError(`${this.spec.id}.setState`, 'a snapshot from getState() ({game: {state, lastAction}, rng})', describe(snapshot), 'pass a snapshot taken from a MinAtar env of the same game'));
    }
    // reset() attaches the RNG to the game (and may draw); the RNG state is restored after it.
    this.game.reset(this.rng);
    this.game.setState(g.state);
    this.rng.setState(snapshot.rng);
    this.lastApplied = g.lastAction;
  }
}
