/**
 * Explicit, seedable, serialisable random number generators. Nothing in the project draws from
 * `Math.random`: every consumer receives an `Rng`.
 */
import seedrandom from 'seedrandom';
import { InvalidConfigError, formatError, describe } from '../errors.js';

/** Serialised state of an RNG; `kind` says which class restores it. */
export type RngState =
  | { kind: 'alea'; state: { c: number; s0: number; s1: number; s2: number } }
  | { kind: 'mt19937'; key: number[]; pos: number };

/** The generator interface every random draw in the project goes through. */
export interface Rng {
  /** Uniform double in [0, 1). */
  random(): number;
  /** Uniform integer in [low, high) (high exclusive, as numpy). */
  int(low: number, high: number): number;
  /** Snapshot of the full generator state (plain JSON). */
  getState(): RngState;
  /** Restores a snapshot taken with `getState`. */
  setState(state: RngState): void;
}

function checkSeed(component: string, seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidConfigError(
      formatError(component, 'an integer seed in [0, 2^32)', describe(seed), 'pass a whole non-negative number'),
    );
  }
}

/** Fast general-purpose RNG (seedrandom's Alea) with state save/restore. */
export class SeededRng implements Rng {
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;

  constructor(seed: number | string = 0) {
    if (typeof seed === 'number') checkSeed('SeededRng', seed);
    this.prng = seedrandom.alea(String(seed), { state: true });
  }

  random(): number {
    return this.prng();
  }

  int(low: number, high: number): number {
    if (!(high > low)) {
      throw new InvalidConfigError(formatError('SeededRng.int', 'high > low', `[${low}, ${high})`, 'pass a non-empty range'));
    }
    return low + Math.floor(this.prng() * (high - low));
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.prng());
  }

  getState(): RngState {
    const s = this.prng.state() as unknown as { c: number; s0: number; s1: number; s2: number };
    return { kind: 'alea', state: { c: s.c, s0: s.s0, s1: s.s1, s2: s.s2 } };
  }

  setState(state: RngState): void {
    if (state.kind !== 'alea') {
      throw new InvalidConfigError(formatError('SeededRng.setState', "state of kind 'alea'", describe(state.kind), 'restore the state into the RNG class that saved it'));
    }
    this.prng = seedrandom.alea('', { state: { ...state.state } as unknown as seedrandom.State.Alea });
  }

  /** A new, independent generator derived from this one (consumes one draw). */
  fork(): SeededRng {
    return new SeededRng(Math.floor(this.random() * 0x100000000));
  }
}

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

/**
 * Bit-exact port of numpy's legacy `RandomState` (MT19937), limited to what MinAtar uses:
 * `rand()` and `randint(low, high)`. A seed therefore means the same game as in the original.
 */
export class MT19937 implements Rng {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  constructor(seed = 5489) {
    this.seed(seed);
  }

  /** Re-seeds with numpy's `init_genrand`. */
  seed(seed: number): void {
    checkSeed('MT19937', seed);
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  private twist(): void {
    const mt = this.mt;
    let i = 0;
    for (; i < N - M; i++) {
      const y = (mt[i]! & UPPER) | (mt[i + 1]! & LOWER);
      mt[i] = mt[i + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; i < N - 1; i++) {
      const y = (mt[i]! & UPPER) | (mt[i + 1]! & LOWER);
      mt[i] = mt[i + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1]! & UPPER) | (mt[0]! & LOWER);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** Next tempered 32-bit output. */
  next32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy `rand()`: a 53-bit double in [0, 1) from two outputs. */
  rand(): number {
    const a = this.next32() >>> 5;
    const b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** numpy `randint(low, high)` over [low, high); draws nothing when the range holds one value. */
  randint(low: number, high: number): number {
    const range = high - low - 1;
    if (range < 0) {
      throw new InvalidConfigError(formatError('MT19937.randint', 'high > low', `[${low}, ${high})`, 'pass a non-empty range'));
    }
    if (range === 0) return low;
    let mask = range;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do {
      v = (this.next32() & mask) >>> 0;
    } while (v > range);
    return low + v;
  }

  random(): number {
    return this.rand();
  }

  int(low: number, high: number): number {
    return this.randint(low, high);
  }

  getState(): RngState {
    return { kind: 'mt19937', key: Array.from(this.mt), pos: this.pos };
  }

  setState(state: RngState): void {
    if (state.kind !== 'mt19937' || state.key.length !== N) {
      throw new InvalidConfigError(formatError('MT19937.setState', `state of kind 'mt19937' with ${N} words`, describe(state.kind), 'restore the state into the RNG class that saved it'));
    }
    this.mt.set(state.key);
    this.pos = state.pos;
  }
}

/** Restores an RNG of the right class from a saved state. */
export function rngFromState(state: RngState): Rng {
  const rng = state.kind === 'mt19937' ? new MT19937(0) : new SeededRng(0);
  rng.setState(state);
  return rng;
}
