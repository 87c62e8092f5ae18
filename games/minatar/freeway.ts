/**
 * MinAtar Freeway (spec section 4): the chicken crosses eight lanes of cars; +1 per crossing.
 * Channels: chicken, car, speed1..speed5 (a car's trail shows its speed). Every episode lasts
 * exactly 2501 steps.
 */
import type { MT19937 } from '../../src/envs/rng.js';
import { DOWN, GRID, UP, type GameOptions, type MinAtarGame } from './game.js';

const C = 7;
const CARS = 8;

export class FreewayGame implements MinAtarGame {
  readonly channels = ['chicken', 'car', 'speed1', 'speed2', 'speed3', 'speed4', 'speed5'] as const;
  readonly minimalActions = [0, 2, 4] as const;
  terminal = true;
  private rng: MT19937 | null = null;
  private pos = 9;
  private moveTimer = 3;
  private terminateTimer = 2500;
  /** Car i drives in row i + 1; speed is signed (+ = moving right). */
  private readonly carX = new Int8Array(CARS);
  private readonly carTimer = new Int8Array(CARS);
  private readonly carSpeed = new Int8Array(CARS);

  constructor(_options: GameOptions) {}

  reset(rng: MT19937): void {
    this.rng = rng;
    this.randomizeCars(true);
    this.startEpisode();
  }

  /**
   * Reset state with given cars (the golden traces force them): one `[x, row, timer, speed]` per
   * car, rows 1..8. No RNG draw.
   */
  forceCars(cars: ReadonlyArray<readonly [number, number, number, number]>): void {
    for (const [x, row, timer, speed] of cars) {
      this.carX[row - 1] = x;
      this.carTimer[row - 1] = timer;
      this.carSpeed[row - 1] = speed;
    }
    this.startEpisode();
  }

  private startEpisode(): void {
    this.pos = 9;
    this.moveTimer = 3;
    this.terminateTimer = 2500;
    this.terminal = false;
  }

  /** 8 speeds, then 8 directions, in row order (the original's batching; it fixes the draw order). */
  private randomizeCars(initialize: boolean): void {
    const rng = this.rng!;
    for (let i = 0; i < CARS; i++) this.carSpeed[i] = rng.randint(1, 6);
    for (let i = 0; i < CARS; i++) {
      const u = rng.rand();
      const d = u > 0.5 ? 1 : u < 0.5 ? -1 : 0;
      const speed = this.carSpeed[i]! * d;
      this.carSpeed[i] = speed;
      this.carTimer[i] = Math.abs(speed);
      if (initialize) this.carX[i] = 0;
    }
  }

  step(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (action === UP && this.moveTimer === 0) {
      this.moveTimer = 3;
      this.pos = Math.max(0, this.pos - 1);
    } else if (action === DOWN && this.moveTimer === 0) {
      this.moveTimer = 3;
      this.pos = Math.min(9, this.pos + 1);
    }
    if (this.pos === 0) {
      reward += 1;
      this.randomizeCars(false);
      this.pos = 9;
    }
    const carX = this.carX;
    const carTimer = this.carTimer;
    const carSpeed = this.carSpeed;
    for (let i = 0; i < CARS; i++) {
      if (carX[i] === 4 && i + 1 === this.pos) this.pos = 9;
      if (carTimer[i] === 0) {
        const speed = carSpeed[i]!;
        carTimer[i] = Math.abs(speed);
        let x = carX[i]! + Math.sign(speed);
        if (x < 0) x = 9;
        else if (x > 9) x = 0;
        carX[i] = x;
        if (x === 4 && i + 1 === this.pos) this.pos = 9;
      } else {
        carTimer[i] = carTimer[i]! - 1;
      }
    }
    if (this.moveTimer > 0) this.moveTimer -= 1;
    this.terminateTimer -= 1;
    if (this.terminateTimer < 0) this.terminal = true;
    return reward;
  }

  writeObs(out: Uint8Array): void {
    out[(this.pos * GRID + 4) * C] = 1;
    for (let i = 0; i < CARS; i++) {
      const x = this.carX[i]!;
      const speed = this.carSpeed[i]!;
      const rowBase = (i + 1) * GRID;
      out[(rowBase + x) * C + 1] = 1;
      // Unlike the other games, the trail wraps around the edges.
      let back = speed > 0 ? x - 1 : x + 1;
      if (back < 0) back = 9;
      else if (back > 9) back = 0;
      out[(rowBase + back) * C + 1 + Math.abs(speed)] = 1;
    }
  }

  getState(): Record<string, unknown> {
    return {
      pos: this.pos, moveTimer: this.moveTimer, terminateTimer: this.terminateTimer, terminal: this.terminal,
      carX: Array.from(this.carX), carTimer: Array.from(this.carTimer), carSpeed: Array.from(this.carSpeed),
    };
  }

  setState(s: Record<string, unknown>): void {
    this.pos = s.pos as number;
    this.moveTimer = s.moveTimer as number;
    this.terminateTimer = s.terminateTimer as number;
    this.terminal = s.terminal as boolean;
    this.carX.set(s.carX as number[]);
    this.carTimer.set(s.carTimer as number[]);
    this.carSpeed.set(s.carSpeed as number[]);
  }
}
