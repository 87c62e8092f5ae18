/**
 * MinAtar Asterix (spec section 2): dodge enemies and collect gold, one entity per row in rows 1..8.
 * Channels: player, enemy, trail, gold.
 */
import type { MT19937 } from '../../src/envs/rng.js';
import { DOWN, GRID, LEFT, RIGHT, UP, type GameOptions, type MinAtarGame } from './game.js';

const SLOTS = 8;
const C = 4;

export class AsterixGame implements MinAtarGame {
  readonly channels = ['player', 'enemy', 'trail', 'gold'] as const;
  readonly minimalActions = [0, 1, 2, 3, 4] as const;
  terminal = true;
  private readonly ramping: boolean;
  private rng: MT19937 | null = null;
  private px = 5;
  private py = 5;
  /** Slot i lives in row i + 1; `present[i]` says whether it holds an entity. */
  private readonly present = new Uint8Array(SLOTS);
  private readonly ex = new Int8Array(SLOTS);
  private readonly right = new Uint8Array(SLOTS);
  private readonly gold = new Uint8Array(SLOTS);
  private readonly free = new Int8Array(SLOTS);
  private spawnSpeed = 10;
  private spawnTimer = 10;
  private moveSpeed = 5;
  private moveTimer = 5;
  private rampTimer = 100;
  private rampIndex = 0;

  constructor(options: GameOptions) {
    this.ramping = options.ramping;
  }

  reset(rng: MT19937): void {
    this.rng = rng;
    this.px = 5;
    this.py = 5;
    this.present.fill(0);
    this.ex.fill(0);
    this.right.fill(0);
    this.gold.fill(0);
    this.spawnSpeed = 10;
    this.spawnTimer = 10;
    this.moveSpeed = 5;
    this.moveTimer = 5;
    this.rampTimer = 100;
    this.rampIndex = 0;
    this.terminal = false;
  }

  step(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (this.spawnTimer === 0) {
      this.spawn();
      this.spawnTimer = this.spawnSpeed;
    }
    if (action === LEFT) this.px = Math.max(0, this.px - 1);
    else if (action === RIGHT) this.px = Math.min(9, this.px + 1);
    else if (action === UP) this.py = Math.max(1, this.py - 1);
    else if (action === DOWN) this.py = Math.min(8, this.py + 1);
    const present = this.present;
    const ex = this.ex;
    // Slot i lives in row i + 1, so only the slot of the player's row can touch it.
    const mine = this.py - 1;
    if (present[mine] && ex[mine] === this.px) reward += this.touch(mine);
    if (this.moveTimer === 0) {
      this.moveTimer = this.moveSpeed;
      for (let i = 0; i < SLOTS; i++) {
        if (!present[i]) continue;
        const x = ex[i]! + (this.right[i] ? 1 : -1);
        if (x < 0 || x > 9) {
          present[i] = 0;
          continue;
        }
        ex[i] = x;
        if (i === mine && x === this.px) reward += this.touch(i);
      }
    }
    this.spawnTimer -= 1;
    this.moveTimer -= 1;
    if (this.ramping && (this.spawnSpeed > 1 || this.moveSpeed > 1)) {
      if (this.rampTimer >= 0) {
        this.rampTimer -= 1;
      } else {
        if (this.moveSpeed > 1 && this.rampIndex % 2 === 1) this.moveSpeed -= 1;
        if (this.spawnSpeed > 1) this.spawnSpeed -= 1;
        this.rampIndex += 1;
        this.rampTimer = 100;
      }
    }
    return reward;
  }

  /** Gold is collected; an enemy ends the episode but stays on the board. */
  private touch(i: number): number {
    if (this.gold[i]) {
      this.present[i] = 0;
      return 1;
    }
    this.terminal = true;
    return 0;
  }

  private spawn(): void {
    const rng = this.rng!;
    // Both draws happen even when no row is free (spec 2.3 step 1).
    const movesRight = rng.rand() < 0.5;
    const isGold = rng.rand() < 1 / 3;
    let n = 0;
    for (let i = 0; i < SLOTS; i++) if (!this.present[i]) this.free[n++] = i;
    if (n === 0) return;
    const slot = this.free[rng.randint(0, n)]!;
    this.present[slot] = 1;
    this.ex[slot] = movesRight ? 0 : 9;
    this.right[slot] = movesRight ? 1 : 0;
    this.gold[slot] = isGold ? 1 : 0;
  }

  writeObs(out: Uint8Array): void {
    out[(this.py * GRID + this.px) * C] = 1;
    for (let i = 0; i < SLOTS; i++) {
      if (!this.present[i]) continue;
      const x = this.ex[i]!;
      const rowBase = (i + 1) * GRID;
      out[(rowBase + x) * C + (this.gold[i] ? 3 : 1)] = 1;
      const back = this.right[i] ? x - 1 : x + 1;
      if (back >= 0 && back <= 9) out[(rowBase + back) * C + 2] = 1;
    }
  }

  getState(): Record<string, unknown> {
    return {
      px: this.px, py: this.py,
      present: Array.from(this.present), ex: Array.from(this.ex), right: Array.from(this.right), gold: Array.from(this.gold),
      spawnSpeed: this.spawnSpeed, spawnTimer: this.spawnTimer, moveSpeed: this.moveSpeed, moveTimer: this.moveTimer,
      rampTimer: this.rampTimer, rampIndex: this.rampIndex, terminal: this.terminal,
    };
  }

  setState(s: Record<string, unknown>): void {
    this.px = s.px as number;
    this.py = s.py as number;
    this.present.set(s.present as number[]);
    this.ex.set(s.ex as number[]);
    this.right.set(s.right as number[]);
    this.gold.set(s.gold as number[]);
    this.spawnSpeed = s.spawnSpeed as number;
    this.spawnTimer = s.spawnTimer as number;
    this.moveSpeed = s.moveSpeed as number;
    this.moveTimer = s.moveTimer as number;
    this.rampTimer = s.rampTimer as number;
    this.rampIndex = s.rampIndex as number;
    this.terminal = s.terminal as boolean;
  }
}
