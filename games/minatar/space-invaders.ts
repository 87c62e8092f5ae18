/**
 * MinAtar Space Invaders (spec section 5): shoot down waves of aliens before they shoot you or
 * reach the bottom. Channels: cannon, alien, alien_left, alien_right, friendly_bullet,
 * enemy_bullet. Fully deterministic.
 */
import type { MT19937 } from '../../src/envs/rng.js';
import { FIRE, GRID, LEFT, RIGHT, type GameOptions, type MinAtarGame } from './game.js';

const C = 6;
const CELLS = GRID * GRID;

export class SpaceInvadersGame implements MinAtarGame {
  readonly channels = ['cannon', 'alien', 'alien_left', 'alien_right', 'friendly_bullet', 'enemy_bullet'] as const;
  readonly minimalActions = [0, 1, 3, 5] as const;
  terminal = true;
  private readonly ramping: boolean;
  private pos = 5;
  /** 10x10 0/1 grids, row-major. */
  private readonly aliens = new Uint8Array(CELLS);
  private readonly fBullets = new Uint8Array(CELLS);
  private readonly eBullets = new Uint8Array(CELLS);
  private alienCount = 0;
  private alienDir = -1;
  private enemyMoveInterval = 12;
  private alienMoveTimer = 12;
  private alienShotTimer = 10;
  private shotTimer = 0;
  private rampIndex = 0;

  constructor(options: GameOptions) {
    this.ramping = options.ramping;
  }

  reset(_rng: MT19937): void {
    this.pos = 5;
    this.fillAliens();
    this.fBullets.fill(0);
    this.eBullets.fill(0);
    this.alienDir = -1;
    this.enemyMoveInterval = 12;
    this.alienMoveTimer = 12;
    this.alienShotTimer = 10;
    this.shotTimer = 0;
    this.rampIndex = 0;
    this.terminal = false;
  }

  private fillAliens(): void {
    const a = this.aliens;
    a.fill(0);
    for (let row = 0; row < 4; row++) a.fill(1, row * GRID + 2, row * GRID + 8);
    this.alienCount = 24;
  }

  step(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    const aliens = this.aliens;
    const fb = this.fBullets;
    const eb = this.eBullets;
    if (action === FIRE && this.shotTimer === 0) {
      fb[9 * GRID + this.pos] = 1;
      this.shotTimer = 5;
    } else if (action === LEFT) {
      this.pos = Math.max(0, this.pos - 1);
    } else if (action === RIGHT) {
      this.pos = Math.min(9, this.pos + 1);
    }
    // Friendly bullets up, enemy bullets down; those leaving the grid disappear.
    fb.copyWithin(0, GRID);
    fb.fill(0, CELLS - GRID);
    eb.copyWithin(GRID, 0, CELLS - GRID);
    eb.fill(0, 0, GRID);
    const cannon = 9 * GRID + this.pos;
    if (eb[cannon]) this.terminal = true;
    if (aliens[cannon]) this.terminal = true;
    if (this.alienMoveTimer === 0) {
      this.alienMoveTimer = Math.min(this.alienCount, this.enemyMoveInterval);
      let leftEdge = false;
      let rightEdge = false;
      for (let row = 0; row < GRID; row++) {
        if (aliens[row * GRID]) leftEdge = true;
        if (aliens[row * GRID + 9]) rightEdge = true;
      }
      if ((leftEdge && this.alienDir < 0) || (rightEdge && this.alienDir > 0)) {
        this.alienDir = -this.alienDir;
        for (let c = CELLS - GRID; c < CELLS; c++) if (aliens[c]) this.terminal = true;
        // The downward shift wraps row 9 to row 0 (QUIRK; only visible on a terminal step).
        this.rowScratch.set(aliens.subarray(CELLS - GRID));
        aliens.copyWithin(GRID, 0, CELLS - GRID);
        aliens.set(this.rowScratch, 0);
      } else if (this.alienDir < 0) {
        aliens.copyWithin(0, 1);
        aliens[CELLS - 1] = 0;
        // Column 0 was empty, so the shift moved zeros into column 9 of each row but the last.
        for (let row = 0; row < GRID; row++) aliens[row * GRID + 9] = 0;
      } else {
        aliens.copyWithin(1, 0, CELLS - 1);
        for (let row = 0; row < GRID; row++) aliens[row * GRID] = 0;
      }
      if (aliens[cannon]) this.terminal = true;
    }
    if (this.alienShotTimer === 0) {
      this.alienShotTimer = 10;
      this.alienShoot();
    }
    for (let c = 0; c < CELLS; c++) {
      if (aliens[c] && fb[c]) {
        aliens[c] = 0;
        fb[c] = 0;
        this.alienCount -= 1;
        reward += 1;
      }
    }
    if (this.shotTimer > 0) this.shotTimer -= 1;
    this.alienMoveTimer -= 1;
    this.alienShotTimer -= 1;
    if (this.alienCount === 0) {
      if (this.ramping && this.enemyMoveInterval > 6) {
        this.enemyMoveInterval -= 1;
        this.rampIndex += 1;
      }
      this.fillAliens();
    }
    return reward;
  }

  private readonly rowScratch = new Uint8Array(GRID);

  /** The lowest alien of the nearest column that has one (ties to the left) fires from its cell. */
  private alienShoot(): void {
    const aliens = this.aliens;
    for (let d = 0; d < GRID; d++) {
      for (let side = 0; side < (d === 0 ? 1 : 2); side++) {
        const col = side === 0 ? this.pos - d : this.pos + d;
        if (col < 0 || col > 9) continue;
        for (let row = GRID - 1; row >= 0; row--) {
          if (aliens[row * GRID + col]) {
            this.eBullets[row * GRID + col] = 1;
            return;
          }
        }
      }
    }
  }

  writeObs(out: Uint8Array): void {
    out[(9 * GRID + this.pos) * C] = 1;
    const dirChannel = this.alienDir < 0 ? 2 : 3;
    const aliens = this.aliens;
    const fb = this.fBullets;
    const eb = this.eBullets;
    for (let c = 0; c < CELLS; c++) {
      const o = c * C;
      if (aliens[c]) {
        out[o + 1] = 1;
        out[o + dirChannel] = 1;
      }
      if (fb[c]) out[o + 4] = 1;
      if (eb[c]) out[o + 5] = 1;
    }
  }

  getState(): Record<string, unknown> {
    return {
      pos: this.pos, aliens: Array.from(this.aliens), fBullets: Array.from(this.fBullets), eBullets: Array.from(this.eBullets),
      alienDir: this.alienDir, enemyMoveInterval: this.enemyMoveInterval, alienMoveTimer: this.alienMoveTimer,
      alienShotTimer: this.alienShotTimer, shotTimer: this.shotTimer, rampIndex: this.rampIndex, terminal: this.terminal,
    };
  }

  setState(s: Record<string, unknown>): void {
    this.pos = s.pos as number;
    this.aliens.set(s.aliens as number[]);
    this.alienCount = this.aliens.reduce((a, b) => a + b, 0);
    this.fBullets.set(s.fBullets as number[]);
    this.eBullets.set(s.eBullets as number[]);
    this.alienDir = s.alienDir as number;
    this.enemyMoveInterval = s.enemyMoveInterval as number;
    this.alienMoveTimer = s.alienMoveTimer as number;
    this.alienShotTimer = s.alienShotTimer as number;
    this.shotTimer = s.shotTimer as number;
    this.rampIndex = s.rampIndex as number;
    this.terminal = s.terminal as boolean;
  }
}
