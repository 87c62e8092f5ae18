/**
 * Action and observation spaces. Constructors validate their arguments and name the bad value;
 * `sample` draws from an explicit RNG; `toJSON`/`spaceFromJSON` round-trip.
 */
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../errors.js';
import type { Rng } from './rng.js';

export type Dtype = 'uint8' | 'int32' | 'float32';
export type TypedArrayOf<D extends Dtype> = D extends 'uint8' ? Uint8Array : D extends 'int32' ? Int32Array : Float32Array;

export type SpaceJSON =
  | { type: 'Discrete'; n: number; start: number }
  | { type: 'Box'; shape: number[]; dtype: Dtype; low: JsonBound[]; high: JsonBound[] }
  | { type: 'MultiDiscrete'; nvec: number[] }
  | { type: 'Dict'; spaces: Record<string, SpaceJSON> };

/** A bound as JSON can hold it: infinities are written as strings. */
export type JsonBound = number | 'inf' | '-inf';
const toBound = (v: number): JsonBound => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);
const fromBound = (v: JsonBound): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

/** Common interface of all spaces. */
export interface Space<T = unknown> {
  readonly type: SpaceJSON['type'];
  contains(x: unknown): x is T;
  sample(rng: Rng, mask?: Uint8Array): T;
  toJSON(): SpaceJSON;
}

function bad(component: string, expected: string, received: unknown, fix: string): never {
  throw new InvalidConfigError(formatError(component, expected, describe(received), fix));
}

/** Integers `start, ..., start + n - 1`. */
export class Discrete implements Space<number> {
  readonly type = 'Discrete' as const;
  readonly n: number;
  readonly start: number;

  constructor(n: number, start = 0) {
    if (!Number.isInteger(n) || n < 1) bad('Discrete', 'n to be a positive integer', n, 'pass the number of actions, e.g. new Discrete(3)');
    if (!Number.isInteger(start)) bad('Discrete', 'start to be an integer', start, 'pass a whole number or omit it');
    this.n = n;
    this.start = start;
  }

  contains(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }

  /** Uniform draw; with `mask` (1 = allowed, length n) only among allowed actions. */
  sample(rng: Rng, mask?: Uint8Array): number {
    if (!mask) return this.start + rng.int(0, this.n);
    if (mask.length !== this.n) {
      throw new SpaceMismatchError(formatError('Discrete.sample', `a mask of length ${this.n}`, `length ${mask.length}`, 'pass one 0/1 entry per action'));
    }
    let count = 0;
    for (let i = 0; i < this.n; i++) if (mask[i]) count++;
    if (count === 0) throw new SpaceMismatchError(formatError('Discrete.sample', 'a mask with at least one allowed action', 'all zeros', 'allow at least one action'));
    let k = rng.int(0, count);
    for (let i = 0; i < this.n; i++) {
      if (mask[i] && k-- === 0) return this.start + i;
    }
    return this.start;
  }

  toJSON(): SpaceJSON {
    return { type: 'Discrete', n: this.n, start: this.start };
  }
}

function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** A zeroed typed array of `dtype` (the observation arrays of Box spaces, wrappers, vector envs and replay). */
export function allocObs(dtype: Dtype, size: number): Uint8Array | Int32Array | Float32Array {
  return dtype === 'uint8' ? new Uint8Array(size) : dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

/** A box of numbers with a shape and dtype; bounds are scalars or one value per element. */
export class Box<D extends Dtype = Dtype> implements Space<TypedArrayOf<D>> {
  readonly type = 'Box' as const;
  readonly shape: readonly number[];
  readonly dtype: D;
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly size: number;

  constructor(opts: { shape: number[]; dtype: D; low: number | number[]; high: number | number[] }) {
    const { shape, dtype } = opts;
    if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      bad('Box', 'shape to be a non-empty array of positive integers', shape, 'pass e.g. { shape: [10, 10, 4] }');
    }
    if (dtype !== 'uint8' && dtype !== 'int32' && dtype !== 'float32') bad('Box', "dtype 'uint8' | 'int32' | 'float32'", dtype, 'pick one of those dtypes');
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = product(shape);
    this.low = this.expand('low', opts.low);
    this.high = this.expand('high', opts.high);
    for (let i = 0; i < this.size; i++) {
      if (!(this.low[i]! <= this.high[i]!)) bad('Box', `low <= high at every element`, `low ${this.low[i]} > high ${this.high[i]} at index ${i}`, 'swap or fix the bounds');
    }
  }

  private expand(which: string, v: number | number[]): Float64Array {
    if (typeof v === 'number') {
      if (Number.isNaN(v)) bad('Box', `${which} to be a number`, v, 'pass a finite number or +-Infinity');
      return new Float64Array(this.size).fill(v);
    }
    if (!Array.isArray(v) || v.length !== this.size || v.some((x) => typeof x !== 'number' || Number.isNaN(x))) {
      bad('Box', `${which} to be a number or ${this.size} numbers`, v, 'pass a scalar bound or one per element');
    }
    return Float64Array.from(v);
  }

  contains(x: unknown): x is TypedArrayOf<D> {
    const ctor = this.dtype === 'uint8' ? Uint8Array : this.dtype === 'int32' ? Int32Array : Float32Array;
    if (!(x instanceof ctor) || x.length !== this.size) return false;
    const lo = this.low;
    const hi = this.high;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (!(v >= lo[i]! && v <= hi[i]!)) return false;
    }
    return true;
  }

  /** Uniform in the box (unbounded float dimensions draw from a standard-normal-like range). */
  sample(rng: Rng): TypedArrayOf<D> {
    const out = allocObs(this.dtype, this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      if (this.dtype === 'float32') {
        const l = Number.isFinite(lo) ? lo : Number.isFinite(hi) ? hi - 1 : -1;
        const h = Number.isFinite(hi) ? hi : l + 2;
        out[i] = l + rng.random() * (h - l);
      } else {
        const l = Math.max(lo, this.dtype === 'uint8' ? 0 : -2147483648);
        const h = Math.min(hi, this.dtype === 'uint8' ? 255 : 2147483647);
        out[i] = rng.int(Math.ceil(l), Math.floor(h) + 1);
      }
    }
    return out as TypedArrayOf<D>;
  }

  toJSON(): SpaceJSON {
    const scalar = (a: Float64Array): JsonBound[] => Array.from(a, toBound);
    return { type: 'Box', shape: [...this.shape], dtype: this.dtype, low: scalar(this.low), high: scalar(this.high) };
  }
}

/** Several discrete values, the i-th in [0, nvec[i]). Values are Int32Array. */
export class MultiDiscrete implements Space<Int32Array> {
  readonly type = 'MultiDiscrete' as const;
  readonly nvec: readonly number[];

  constructor(nvec: number[]) {
    if (!Array.isArray(nvec) || nvec.length === 0 || nvec.some((n) => !Number.isInteger(n) || n < 1)) {
      bad('MultiDiscrete', 'nvec to be a non-empty array of positive integers', nvec, 'pass e.g. [3, 3]');
    }
    this.nvec = Object.freeze([...nvec]);
  }

  contains(x: unknown): x is Int32Array {
    const arr = x instanceof Int32Array || Array.isArray(x) ? (x as ArrayLike<number>) : null;
    if (!arr || arr.length !== this.nvec.length) return false;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.nvec[i]!) return false;
    }
    return true;
  }

  sample(rng: Rng): Int32Array {
    return Int32Array.from(this.nvec, (n) => rng.int(0, n));
  }

  toJSON(): SpaceJSON {
    return { type: 'MultiDiscrete', nvec: [...this.nvec] };
  }
}

/** A named collection of spaces; values are plain objects with the same keys. */
export class Dict implements Space<Record<string, unknown>> {
  readonly type = 'Dict' as const;
  readonly spaces: Readonly<Record<string, Space>>;

  constructor(spaces: Record<string, Space>) {
    if (typeof spaces !== 'object' || spaces === null || Object.keys(spaces).length === 0) {
      bad('Dict', 'an object of one or more spaces', spaces, 'pass e.g. { pos: new Box(...), mode: new Discrete(2) }');
    }
    for (const [k, s] of Object.entries(spaces)) {
      if (!s || typeof (s as Space).contains !== 'function') bad('Dict', `a space at key '${k}'`, s, 'pass Space instances as values');
    }
    this.spaces = Object.freeze({ ...spaces });
  }

  contains(x: unknown): x is Record<string, unknown> {
    if (typeof x !== 'object' || x === null) return false;
    const keys = Object.keys(this.spaces);
    if (Object.keys(x).length !== keys.length) return false;
    return keys.every((k) => this.spaces[k]!.contains((x as Record<string, unknown>)[k]));
  }

  sample(rng: Rng): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(this.spaces)) out[k] = s.sample(rng);
    return out;
  }

  toJSON(): SpaceJSON {
    const spaces: Record<string, SpaceJSON> = {};
    for (const [k, s] of Object.entries(this.spaces)) spaces[k] = s.toJSON();
    return { type: 'Dict', spaces };
  }
}

/** Rebuilds a space from `toJSON` output. */
export function spaceFromJSON(json: SpaceJSON): Space {
  switch (json?.type) {
    case 'Discrete':
      return new Discrete(json.n, json.start);
    case 'Box': {
      const uniform = (b: JsonBound[]): number | number[] => {
        const a = b.map(fromBound);
        return a.every((v) => v === a[0]) ? a[0]! : a;
      };
      return new Box({ shape: json.shape, dtype: json.dtype, low: uniform(json.low), high: uniform(json.high) });
    }
    case 'MultiDiscrete':
      return new MultiDiscrete(json.nvec);
    case 'Dict': {
      const spaces: Record<string, Space> = {};
      for (const [k, s] of Object.entries(json.spaces)) spaces[k] = spaceFromJSON(s);
      return new Dict(spaces);
    }
    default:
      throw new InvalidConfigError(formatError('spaceFromJSON', "a type of 'Discrete' | 'Box' | 'MultiDiscrete' | 'Dict'", describe((json as { type?: unknown })?.type), 'pass the output of space.toJSON()'));
  }
}

/** Number of elements of a Box, or throws if the space is not a Box. */
export function boxSize(space: Space): number {
  if (!(space instanceof Box)) throw new SpaceMismatchError(formatError('boxSize', 'a Box space', space.type, 'use an env with array observations'));
  return space.size;
}
