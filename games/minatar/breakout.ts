/**
 * MinAtar Breakout (spec section 3): bounce the ball off the paddle into three rows of bricks.
 * Channels: paddle, ball, trail, brick. No randomness after the reset draw.
 */
import type { MT19937 } from '../../src/envs/rng.js';
import { GRID, LEFT, RIGHT, type GameOptions, type MinAtarGame } from './game.js';

const C = 4;
// Ball directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
const DX = [-1, 1, 1, -1] as const;
const DY = [-1, -1, 1, 1] as const;
const H_FLIP = [1, 0, 3, 2] as const;
const V_FLIP = [3, 2, 1, 0] as const;
const REVERSE = [2, 3, 0, 1] as const;

export class BreakoutGame implements MinAtarGame {
  readonly channels = ['paddle', 'ball', 'trail', 'brick'] as const;
  readonly minimalActions = [0, 1, 3] as const;
  terminal = true;
  private bx = 0;
  private by = 3;
  private dir = 2;
  private paddle = 4;
  private lx = 0;
  private ly = 3;
  private strike = false;
  private readonly bricks = new Uint8Array(GRID * GRID);
  private brickCount = 0;

  constructor(_options: GameOptions) {}

  reset(rng: MT19937): void {
    const side = rng.randint(0, 2);
    if (side === 0) this.forceStart(0, 3, 2);
    else this.forceStart(9, 3, 3);
  }

  /** Reset state with a given ball start (the golden traces force it); no RNG draw. */
  forceStart(ballX: number, ballY: number, dir: number): void {
    this.bx = ballX;
    this.by = ballY;
    this.dir = dir;
    this.lx = ballX;
    this.ly = ballY;
    this.paddle = 4;
    this.strike = false;
    this.fillBricks();
    this.terminal = false;
  }

  private fillBricks(): void {
    this.bricks.fill(0);
    this.bricks.fill(1, GRID, 4 * GRID);
    this.brickCount = 30;
  }

  step(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (action === LEFT) this.paddle = Math.max(0, this.paddle - 1);
    else if (action === RIGHT) this.paddle = Math.min(9, this.paddle + 1);
    this.lx = this.bx;
    this.ly = this.by;
    let nx = this.bx + DX[this.dir as 0]!;
    let ny = this.by + DY[this.dir as 0]!;
    let strikeToggle = false;
    if (nx < 0 || nx > 9) {
      nx = nx < 0 ? 0 : 9;
      this.dir = H_FLIP[this.dir as 0]!;
    }
    if (ny < 0) {
      ny = 0;
      this.dir = V_FLIP[this.dir as 0]!;
    } else if (this.bricks[ny * GRID + nx]) {
      strikeToggle = true;
      // Two strikes in a row: the ball enters the brick cell and nothing else happens (QUIRK).
      if (!this.strike) {
        reward += 1;
        this.strike = true;
        this.bricks[ny * GRID + nx] = 0;
        this.brickCount -= 1;
        ny = this.ly;
        this.dir = V_FLIP[this.dir as 0]!;
      }
    } else if (ny === 9) {
      if (this.brickCount === 0) this.fillBricks();
      if (this.lx === this.paddle) {
        this.dir = V_FLIP[this.dir as 0]!;
        ny = this.ly;
      } else if (nx === this.paddle) {
        this.dir = REVERSE[this.dir as 0]!;
        ny = this.ly;
      } else {
        this.terminal = true;
      }
    }
    if (!strikeToggle) this.strike = false;
    this.bx = nx;
    this.by = ny;
    return reward;
  }

  writeObs(out: Uint8Array): void {
    const bricks = this.bricks;
    // Bricks only ever exist in rows 1..3 (reset and refill put them there; nothing moves them).
    for (let i = GRID; i < 4 * GRID; i++) if (bricks[i]) out[i * C + 3] = 1;
    out[(9 * GRID + this.paddle) * C] = 1;
    out[(this.by * GRID + this.bx) * C + 1] = 1;
    out[(this.ly * GRID + this.lx) * C + 2] = 1;
  }

  getState(): Record<string, unknown> {
    return {
      bx: this.bx, by: this.by, dir: this.dir, paddle: this.paddle, lx: this.lx, ly: this.ly,
      strike: this.strike, bricks: Array.from(this.bricks), terminal: this.terminal,
    };
  }

  setState(s: Record<string, unknown>): void {
    this.bx = s.bx as number;
    this.by = s.by as number;
    this.dir = s.dir as number;
    this.paddle = s.paddle as number;
    this.lx = s.lx as number;
    this.ly = s.ly as number;
    this.strike = s.strike as boolean;
    this.bricks.set(s.bricks as number[]);
    this.brickCount = this.bricks.reduce((a, b) => a + b, 0);
    this.terminal = s.terminal as boolean;
  }
}
