/**
 * MinAtar Seaquest (spec section 6): shoot fish and enemy subs, rescue divers, surface for oxygen.
 * Channels: sub_front, sub_back, friendly_bullet, trail, enemy_bullet, enemy_fish, enemy_sub,
 * oxygen_guage, diver_guage, diver (upstream spelling).
 */
import type { MT19937 } from '../../src/envs/rng.js';
import { DOWN, FIRE, GRID, LEFT, RIGHT, UP, type GameOptions, type MinAtarGame } from './game.js';
import { EntityList } from './entity-list.js';

const C = 10;
const MAX_OXYGEN = 200;
const DIVER_MOVE = 5;
const DIVER_SPAWN = 30;
const SUB_SHOT = 10;
const PLAYER_SHOT = 5;

export class SeaquestGame implements MinAtarGame {
  readonly channels = [
    'sub_front', 'sub_back', 'friendly_bullet', 'trail', 'enemy_bullet', 'enemy_fish', 'enemy_sub', 'oxygen_guage', 'diver_guage', 'diver',
  ] as const;
  readonly minimalActions = [0, 1, 2, 3, 4, 5] as const;
  terminal = true;
  private readonly ramping: boolean;
  private rng: MT19937 | null = null;
  private sx = 5;
  private sy = 0;
  private facingRight = false;
  private oxygen = MAX_OXYGEN;
  /** Can go negative after a 6-diver surfacing (QUIRK). */
  private diverCount = 0;
  private surface = true;
  private shotTimer = 0;
  private eSpawnSpeed = 20;
  private eSpawnTimer = 20;
  private dSpawnTimer = DIVER_SPAWN;
  private moveSpeed = 5;
  private rampIndex = 0;
  private readonly fBullets = new EntityList();
  private readonly eBullets = new EntityList();
  private readonly fish = new EntityList();
  private readonly subs = new EntityList();
  private readonly divers = new EntityList();

  constructor(options: GameOptions) {
    this.ramping = options.ramping;
  }

  reset(rng: MT19937): void {
    this.rng = rng;
    this.sx = 5;
    this.sy = 0;
    this.facingRight = false;
    this.oxygen = MAX_OXYGEN;
    this.diverCount = 0;
    this.surface = true;
    this.shotTimer = 0;
    this.eSpawnSpeed = 20;
    this.eSpawnTimer = 20;
    this.dSpawnTimer = DIVER_SPAWN;
    this.moveSpeed = 5;
    this.rampIndex = 0;
    this.fBullets.clear();
    this.eBullets.clear();
    this.fish.clear();
    this.subs.clear();
    this.divers.clear();
    this.terminal = false;
  }

  step(action: number): number {
    if (this.terminal) return 0;
    let reward = 0;
    if (this.eSpawnTimer === 0) {
      this.spawnEnemy();
      this.eSpawnTimer = this.eSpawnSpeed;
    }
    if (this.dSpawnTimer === 0) {
      this.spawnDiver();
      this.dSpawnTimer = DIVER_SPAWN;
    }
    if (action === FIRE && this.shotTimer === 0) {
      this.fBullets.push(this.sx, this.sy, this.facingRight ? 1 : 0, 0, 0);
      this.shotTimer = PLAYER_SHOT;
    } else if (action === LEFT) {
      this.sx = Math.max(0, this.sx - 1);
      this.facingRight = false;
    } else if (action === RIGHT) {
      this.sx = Math.min(9, this.sx + 1);
      this.facingRight = true;
    } else if (action === UP) {
      this.sy = Math.max(0, this.sy - 1);
    } else if (action === DOWN) {
      this.sy = Math.min(8, this.sy + 1);
    }
    const sx = this.sx;
    const sy = this.sy;

    // Every update loop below visits its list newest first; partner searches go oldest first.
    const fb = this.fBullets;
    const fish = this.fish;
    const subs = this.subs;
    for (let i = fb.length - 1; i >= 0; i--) {
      const x = fb.x[i]! + (fb.right[i] ? 1 : -1);
      if (x < 0 || x > 9) {
        fb.remove(i);
        continue;
      }
      fb.x[i] = x;
      const y = fb.y[i]!;
      let hit = fish.findAt(x, y);
      if (hit >= 0) {
        fish.remove(hit);
        fb.remove(i);
        reward += 1;
        continue;
      }
      hit = subs.findAt(x, y);
      if (hit >= 0) {
        subs.remove(hit);
        fb.remove(i);
        reward += 1;
      }
    }

    const divers = this.divers;
    for (let i = divers.length - 1; i >= 0; i--) {
      if (divers.x[i] === sx && divers.y[i] === sy && this.diverCount < 6) {
        divers.remove(i);
        this.diverCount += 1;
      } else if (divers.moveTimer[i] === 0) {
        divers.moveTimer[i] = DIVER_MOVE;
        const x = divers.x[i]! + (divers.right[i] ? 1 : -1);
        divers.x[i] = x;
        if (x < 0 || x > 9) {
          divers.remove(i);
        } else if (x === sx && divers.y[i] === sy && this.diverCount < 6) {
          divers.remove(i);
          this.diverCount += 1;
        }
      } else {
        divers.moveTimer[i] = divers.moveTimer[i]! - 1;
      }
    }

    const eb = this.eBullets;
    for (let i = subs.length - 1; i >= 0; i--) {
      if (subs.x[i] === sx && subs.y[i] === sy) this.terminal = true;
      let x = subs.x[i]!;
      const y = subs.y[i]!;
      const right = subs.right[i]!;
      const shot = subs.shotTimer[i]!;
      let removed = false;
      if (subs.moveTimer[i] === 0) {
        subs.moveTimer[i] = this.moveSpeed;
        x += right ? 1 : -1;
        subs.x[i] = x;
        if (x < 0 || x > 9) {
          subs.remove(i);
          removed = true;
        } else if (x === sx && y === sy) {
          this.terminal = true;
        } else {
          const hit = fb.findAt(x, y);
          if (hit >= 0) {
            fb.remove(hit);
            subs.remove(i);
            removed = true;
            reward += 1;
          }
        }
      } else {
        subs.moveTimer[i] = subs.moveTimer[i]! - 1;
      }
      // A sub that was just shot or just left the grid still fires this step (QUIRK).
      if (shot === 0) {
        if (!removed) subs.shotTimer[i] = SUB_SHOT;
        eb.push(x, y, right, 0, 0);
      } else if (!removed) {
        subs.shotTimer[i] = shot - 1;
      }
    }

    for (let i = eb.length - 1; i >= 0; i--) {
      const y = eb.y[i]!;
      if (eb.x[i] === sx && y === sy) this.terminal = true;
      const x = eb.x[i]! + (eb.right[i] ? 1 : -1);
      eb.x[i] = x;
      if (x < 0 || x > 9) eb.remove(i);
      else if (x === sx && y === sy) this.terminal = true;
    }

    for (let i = fish.length - 1; i >= 0; i--) {
      const y = fish.y[i]!;
      if (fish.x[i] === sx && y === sy) this.terminal = true;
      if (fish.moveTimer[i] === 0) {
        fish.moveTimer[i] = this.moveSpeed;
        const x = fish.x[i]! + (fish.right[i] ? 1 : -1);
        fish.x[i] = x;
        if (x < 0 || x > 9) {
          fish.remove(i);
        } else if (x === sx && y === sy) {
          this.terminal = true;
        } else {
          const hit = fb.findAt(x, y);
          if (hit >= 0) {
            fb.remove(hit);
            fish.remove(i);
            reward += 1;
          }
        }
      } else {
        fish.moveTimer[i] = fish.moveTimer[i]! - 1;
      }
    }

    if (this.eSpawnTimer > 0) this.eSpawnTimer -= 1;
    if (this.dSpawnTimer > 0) this.dSpawnTimer -= 1;
    if (this.shotTimer > 0) this.shotTimer -= 1;

    if (this.oxygen <= 0) this.terminal = true;
    if (sy > 0) {
      this.oxygen -= 1;
      this.surface = false;
    } else if (!this.surface) {
      if (this.diverCount === 0) this.terminal = true;
      else reward += this.surfaceEvent();
    }
    return reward;
  }

  private surfaceEvent(): number {
    this.surface = true;
    let bonus = 0;
    if (this.diverCount === 6) {
      this.diverCount = 0;
      bonus = Math.floor((this.oxygen * 10) / MAX_OXYGEN);
    }
    this.oxygen = MAX_OXYGEN;
    // Also after a 6-diver bonus, leaving the count at -1 (QUIRK).
    this.diverCount -= 1;
    if (this.ramping && (this.eSpawnSpeed > 1 || this.moveSpeed > 2)) {
      if (this.moveSpeed > 2 && this.rampIndex % 2 === 1) this.moveSpeed -= 1;
      if (this.eSpawnSpeed > 1) this.eSpawnSpeed -= 1;
      this.rampIndex += 1;
    }
    return bonus;
  }

  private spawnEnemy(): void {
    const rng = this.rng!;
    const right = rng.rand() < 0.5 ? 1 : 0;
    const isSub = rng.rand() < 1 / 3;
    const row = rng.randint(1, 9);
    // No spawn into a row where an existing enemy moves the other way (the draws are still used).
    if (movesAgainst(this.subs, row, right) || movesAgainst(this.fish, row, right)) return;
    const x = right ? 0 : 9;
    if (isSub) this.subs.push(x, row, right, this.moveSpeed, SUB_SHOT);
    else this.fish.push(x, row, right, this.moveSpeed, 0);
  }

  private spawnDiver(): void {
    const rng = this.rng!;
    const right = rng.rand() < 0.5 ? 1 : 0;
    const row = rng.randint(1, 9);
    this.divers.push(right ? 0 : 9, row, right, DIVER_MOVE, 0);
  }

  writeObs(out: Uint8Array): void {
    out[(this.sy * GRID + this.sx) * C] = 1;
    const back = this.facingRight ? this.sx - 1 : this.sx + 1;
    if (back >= 0 && back <= 9) out[(this.sy * GRID + back) * C + 1] = 1;
    const fb = this.fBullets;
    for (let i = 0; i < fb.length; i++) out[(fb.y[i]! * GRID + fb.x[i]!) * C + 2] = 1;
    const eb = this.eBullets;
    for (let i = 0; i < eb.length; i++) out[(eb.y[i]! * GRID + eb.x[i]!) * C + 4] = 1;
    writeMovers(out, this.fish, 5);
    writeMovers(out, this.subs, 6);
    writeMovers(out, this.divers, 9);
    const oxygenCells = Math.floor((Math.max(0, this.oxygen) * 10) / MAX_OXYGEN);
    for (let x = 0; x < oxygenCells; x++) out[(9 * GRID + x) * C + 7] = 1;
    for (let x = 9 - this.diverCount; x < 9; x++) out[(9 * GRID + x) * C + 8] = 1;
  }

  getState(): Record<string, unknown> {
    return {
      sx: this.sx, sy: this.sy, facingRight: this.facingRight, oxygen: this.oxygen, diverCount: this.diverCount,
      surface: this.surface, shotTimer: this.shotTimer, eSpawnSpeed: this.eSpawnSpeed, eSpawnTimer: this.eSpawnTimer,
      dSpawnTimer: this.dSpawnTimer, moveSpeed: this.moveSpeed, rampIndex: this.rampIndex, terminal: this.terminal,
      fBullets: this.fBullets.toJSON(), eBullets: this.eBullets.toJSON(), fish: this.fish.toJSON(), subs: this.subs.toJSON(),
      divers: this.divers.toJSON(),
    };
  }

  setState(s: Record<string, unknown>): void {
    this.sx = s.sx as number;
    this.sy = s.sy as number;
    this.facingRight = s.facingRight as boolean;
    this.oxygen = s.oxygen as number;
    this.diverCount = s.diverCount as number;
    this.surface = s.surface as boolean;
    this.shotTimer = s.shotTimer as number;
    this.eSpawnSpeed = s.eSpawnSpeed as number;
    this.eSpawnTimer = s.eSpawnTimer as number;
    this.dSpawnTimer = s.dSpawnTimer as number;
    this.moveSpeed = s.moveSpeed as number;
    this.rampIndex = s.rampIndex as number;
    this.terminal = s.terminal as boolean;
    this.fBullets.load(s.fBullets as number[][]);
    this.eBullets.load(s.eBullets as number[][]);
    this.fish.load(s.fish as number[][]);
    this.subs.load(s.subs as number[][]);
    this.divers.load(s.divers as number[][]);
  }
}

/** Fish, subs and divers: the entity in its channel, plus the shared trail behind it. */
function writeMovers(out: Uint8Array, list: EntityList, channel: number): void {
  for (let i = 0; i < list.length; i++) {
    const x = list.x[i]!;
    const rowBase = list.y[i]! * GRID;
    out[(rowBase + x) * C + channel] = 1;
    const back = list.right[i] ? x - 1 : x + 1;
    if (back >= 0 && back <= 9) out[(rowBase + back) * C + 3] = 1;
  }
}

function movesAgainst(list: EntityList, row: number, right: number): boolean {
  for (let i = 0; i < list.length; i++) if (list.y[i] === row && list.right[i] !== right) return true;
  return false;
}
