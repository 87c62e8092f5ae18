/**
 * Test helper: a MinAtar-like 10x10 grid game rendered at 80x80 (8-pixel cells). A player moves
 * along the bottom row, three enemies bounce around, a bullet flies up; enough motion per frame to
 * measure episode file sizes the way a MinAtar game would produce them.
 */
import type { Env, EnvSnapshot, EnvSpec, ResetArgs, ResetResult, RgbFrame, StepResult } from '../../../src/envs/env.js';
import { SeededRng, type RngState } from '../../../src/envs/rng.js';
import { Box, Discrete } from '../../../src/envs/spaces.js';

const N = 10;
const CELL = 8;
const COLOURS: Array<[number, number, number]> = [
  [30, 144, 255],
  [255, 69, 0],
  [50, 205, 50],
  [255, 215, 0],
];

interface GridState {
  player: number;
  enemies: Array<{ x: number; y: number; dx: number; dy: number }>;
  bullet: { x: number; y: number } | null;
  t: number;
}

export const GRID_ACTIONS = ['noop', 'left', 'right', 'fire', 'up-left', 'up-right'];

export class GridGame implements Env<Uint8Array, number> {
  readonly observationSpace = new Box({ shape: [N, N, 4], dtype: 'uint8', low: 0, high: 1 });
  readonly actionSpace = new Discrete(GRID_ACTIONS.length);
  readonly spec: EnvSpec = { id: 'test/grid', actionNames: GRID_ACTIONS, options: {} };
  private rng = new SeededRng(0);
  private s: GridState = { player: 5, enemies: [], bullet: null, t: 0 };

  reset(args: ResetArgs = {}): ResetResult<Uint8Array> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    const enemies = [0, 1, 2].map(() => ({ x: this.rng.int(0, N), y: this.rng.int(0, 6), dx: this.rng.int(0, 2) * 2 - 1, dy: this.rng.int(0, 2) * 2 - 1 }));
    this.s = { player: this.rng.int(0, N), enemies, bullet: null, t: 0 };
    return { obs: this.observe(), info: {} };
  }

  step(action: number): StepResult<Uint8Array> {
    const s = this.s;
    if (action === 1 || action === 4) s.player = Math.max(0, s.player - 1);
    if (action === 2 || action === 5) s.player = Math.min(N - 1, s.player + 1);
    if (action === 3 && !s.bullet) s.bullet = { x: s.player, y: N - 2 };
    let reward = 0;
    if (s.bullet) {
      s.bullet.y -= 1;
      if (s.bullet.y < 0) s.bullet = null;
    }
    for (const e of s.enemies) {
      if (e.x + e.dx < 0 || e.x + e.dx >= N) e.dx = -e.dx;
      if (e.y + e.dy < 0 || e.y + e.dy >= N - 1) e.dy = -e.dy;
      e.x += e.dx;
      e.y += e.dy;
      if (s.bullet && s.bullet.x === e.x && s.bullet.y === e.y) {
        reward += 1;
        s.bullet = null;
        e.x = this.rng.int(0, N);
        e.y = 0;
      }
    }
    s.t++;
    return { obs: this.observe(), reward, terminated: false, truncated: false, info: {} };
  }

  private cells(): Array<[number, number, number]> {
    const s = this.s;
    const out: Array<[number, number, number]> = [[s.player, N - 1, 0]];
    for (const e of s.enemies) out.push([e.x, e.y, 1]);
    if (s.bullet) out.push([s.bullet.x, s.bullet.y, 2]);
    out.push([s.t % N, 0, 3]);
    return out;
  }

  private observe(): Uint8Array {
    const o = new Uint8Array(N * N * 4);
    for (const [x, y, c] of this.cells()) o[(y * N + x) * 4 + c] = 1;
    return o;
  }

  render(): RgbFrame {
    const w = N * CELL;
    const data = new Uint8Array(w * w * 3);
    for (const [cx, cy, c] of this.cells()) {
      const [r, g, b] = COLOURS[c]!;
      for (let y = cy * CELL; y < (cy + 1) * CELL; y++) {
        for (let x = cx * CELL; x < (cx + 1) * CELL; x++) {
          const i = (y * w + x) * 3;
          data[i] = r;
          data[i + 1] = g;
          data[i + 2] = b;
        }
      }
    }
    return { width: w, height: w, data };
  }

  close(): void {}

  getState(): EnvSnapshot {
    return { game: JSON.parse(JSON.stringify(this.s)), rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    this.s = JSON.parse(JSON.stringify(snapshot.game)) as GridState;
    if (snapshot.rng) this.rng.setState(snapshot.rng as RngState);
  }
}

/** A plausible agent annotation for step t: smooth Q-values, softmax probabilities, a value. */
export function fakeAnnotation(t: number, nActions: number, rng: SeededRng): { q: number[]; probs: number[]; value: number } {
  const q = Array.from({ length: nActions }, (_, a) => Math.sin(t / 17 + a) * 0.8 + 0.05 * rng.normal() + a * 0.1);
  const m = Math.max(...q);
  const e = q.map((v) => Math.exp((v - m) * 3));
  const z = e.reduce((x, y) => x + y, 0);
  return { q, probs: e.map((v) => v / z), value: Math.max(...q) * 0.9 };
}
