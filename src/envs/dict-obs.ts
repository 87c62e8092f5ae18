/**
 * How a Dict observation travels through the framework.
 *
 * Vector envs, rollout storage, replay memories, evaluation and the runtime all handle one flat
 * typed array per env. Rather than teach each of them about objects of arrays, an env whose
 * observation space is a `Dict` is wrapped (`make` does it, see `FlattenDictObservation`) so each
 * observation becomes ONE flat Float32Array:
 * - keys in sorted order (the same order every time, whatever order the game listed them in);
 * - each key's Box flattened in its own row-major order at a fixed offset;
 * - byte pixels (a uint8 key whose high bound is above 1) multiplied by 1/255 on the way in, so
 *   the flat array is float32 and needs no further scale.
 * The layout (key, shape, offset, scale) is derived from the Dict space alone, so the wrapper, the
 * network (which slices the flat input back per key before the per-key encoders, see
 * `src/networks/encoders.ts`) and a game embedding an exported policy all agree on it. The flat
 * space is a `FlatDictBox`: a float32 Box that still carries the Dict and its layout, and whose
 * JSON keeps the Dict so the space survives the trip to and from a worker thread.
 *
 * Keys must be Box spaces (Discrete or nested Dict keys are refused by name); the cost of the
 * float32 copy of a uint8 key is 4 bytes per value in replay memory.
 */
import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { Wrapper, type Env, type ResetArgs, type ResetResult, type StepResult } from './env.js';
import { Box, Dict, spaceFromJSON, type Dtype, type Space, type SpaceJSON } from './spaces.js';

/** Most keys of a Dict observation. */
export const MAX_DICT_KEYS = 64;
/** Longest key name (characters). */
export const MAX_DICT_KEY_LENGTH = 64;

/** Where one key of a Dict observation sits in the flat array. */
export interface DictLayoutEntry {
  key: string;
  /** Shape of the key's Box ([H, W, C] for grids and pixels, [d] for vectors). */
  shape: number[];
  /** dtype of the key's Box (before flattening; the flat array is always float32). */
  dtype: Dtype;
  /** First index of the key in the flat array. */
  offset: number;
  /** Number of values (product of `shape`). */
  size: number;
  /** Factor applied when flattening: 1/255 for byte pixels, else 1. */
  scale: number;
}

/** The layout of a flattened Dict observation: entries in key order, `size` values in total. */
export interface DictLayout {
  entries: DictLayoutEntry[];
  size: number;
}

/** The scale the framework applies to a Box's values: 1/255 for byte pixels (uint8 with a high bound above 1), else 1. */
export function boxInputScale(box: Box): number {
  let high = -Infinity;
  for (const h of box.high) if (h > high) high = h;
  return box.dtype === 'uint8' && high > 1 ? 1 / 255 : 1;
}

/** Layout of a Dict space (sorted keys, Box values only). Throws SpaceMismatchError naming the first key that cannot be flattened. */
export function dictLayout(space: Dict): DictLayout {
  const keys = Object.keys(space.spaces).sort();
  if (keys.length > MAX_DICT_KEYS) throw new SpaceMismatchError(formatError('DictObservation', `at most ${MAX_DICT_KEYS} keys`, `${keys.length} keys`, 'merge keys into fewer Box spaces'));
  const entries: DictLayoutEntry[] = [];
  let offset = 0;
  for (const key of keys) {
    const s = space.spaces[key]!;
    if (key.length === 0 || key.length > MAX_DICT_KEY_LENGTH) throw new SpaceMismatchError(formatError('DictObservation', `key names of 1 to ${MAX_DICT_KEY_LENGTH} characters`, `a key of ${key.length} characters`, 'rename the key'));
    if (!(s instanceof Box)) throw new SpaceMismatchError(formatError('DictObservation', `a Box space at every key`, `${s.type} at key ${describe(key)}`, 'make the key a Box (e.g. a one-hot Box for a Discrete value)'));
    entries.push({ key, shape: [...s.shape], dtype: s.dtype, offset, size: s.size, scale: boxInputScale(s) });
    offset += s.size;
  }
  return { entries, size: offset };
}

/**
 * Writes one Dict observation into `out` (fresh when omitted) following `layout`; returns `out`.
 * Checks every key's presence and length (the values themselves are the env's business).
 */
export function flattenDictObs(layout: DictLayout, obs: Record<string, ArrayLike<number>>, out: Float32Array = new Float32Array(layout.size)): Float32Array {
  if (typeof obs !== 'object' || obs === null) throw new SpaceMismatchError(formatError('flattenDictObs', 'an object with one array per key', describe(obs), 'pass the Dict observation'));
  if (out.length !== layout.size) throw new SpaceMismatchError(formatError('flattenDictObs', `an output of ${layout.size} values`, `${out.length}`, 'allocate layout.size values'));
  for (const e of layout.entries) {
    const v = obs[e.key];
    if (!v || typeof v.length !== 'number' || v.length !== e.size) throw new SpaceMismatchError(formatError('flattenDictObs', `${e.size} values at key ${describe(e.key)}`, v && typeof v.length === 'number' ? `${v.length} values` : describe(v), 'return every key of the Dict observation space with its declared shape'));
    if (e.scale === 1) for (let i = 0; i < e.size; i++) out[e.offset + i] = v[i]!;
    else for (let i = 0; i < e.size; i++) out[e.offset + i] = v[i]! * e.scale;
  }
  return out;
}

/** Per-element bounds of the flat array (scaled as the values are). */
function flatBounds(space: Dict, layout: DictLayout): { low: number[]; high: number[] } {
  const low = new Array<number>(layout.size);
  const high = new Array<number>(layout.size);
  for (const e of layout.entries) {
    const box = space.spaces[e.key] as Box;
    for (let i = 0; i < e.size; i++) {
      // Math.fround: the flat values are float32, so the bounds must be the float32 of the scaled bound.
      low[e.offset + i] = Math.fround(box.low[i]! * e.scale);
      high[e.offset + i] = Math.fround(box.high[i]! * e.scale);
    }
  }
  return { low, high };
}

/** JSON of a FlatDictBox: a Box plus the Dict it flattens. */
export type FlatDictBoxJSON = Extract<SpaceJSON, { type: 'Box' }> & { dict: SpaceJSON };

/** The float32 Box of a flattened Dict observation; keeps the Dict and its layout for the network builders. */
export class FlatDictBox extends Box<'float32'> {
  readonly dict: Dict;
  readonly layout: DictLayout;

  constructor(dict: Dict) {
    if (!(dict instanceof Dict)) throw new InvalidConfigError(formatError('FlatDictBox', 'a Dict space', describe(dict), 'pass new Dict({...})'));
    const layout = dictLayout(dict);
    super({ shape: [layout.size], dtype: 'float32', ...flatBounds(dict, layout) });
    this.dict = dict;
    this.layout = layout;
  }

  override toJSON(): FlatDictBoxJSON {
    return { ...(super.toJSON() as Extract<SpaceJSON, { type: 'Box' }>), dict: this.dict.toJSON() };
  }
}

/** The layout of a flattened Dict observation space, or null for any other space. */
export function dictLayoutOf(space: Space): DictLayout | null {
  return space instanceof FlatDictBox ? space.layout : null;
}

/** `spaceFromJSON` that also rebuilds a FlatDictBox (a Box JSON carrying its `dict`). */
export function observationSpaceFromJSON(json: SpaceJSON): Space {
  const dict = (json as Partial<FlatDictBoxJSON>)?.dict;
  if (json?.type === 'Box' && dict !== undefined) {
    const inner = spaceFromJSON(dict);
    if (!(inner instanceof Dict)) throw new InvalidConfigError(formatError('observationSpaceFromJSON', 'a Dict under a flat Box\'s "dict"', inner.type, 'pass the output of FlatDictBox.toJSON()'));
    return new FlatDictBox(inner);
  }
  return spaceFromJSON(json);
}

/** Turns an env's Dict observations into flat Float32Arrays (see the top of this file). Applied by `make`. */
export class FlattenDictObservation extends Wrapper<Float32Array, unknown, Record<string, ArrayLike<number>>, unknown> {
  // A pure function of each observation: nothing carries over between steps.
  static override readonly stateless = true;
  private readonly space: FlatDictBox;

  constructor(env: Env<Record<string, ArrayLike<number>>, unknown>) {
    super(env);
    const os = env.observationSpace as unknown as Space;
    if (!(os instanceof Dict)) throw new SpaceMismatchError(formatError('FlattenDictObservation', 'an env with a Dict observation space', os?.type ?? describe(os), 'apply it to Dict-observation envs only'));
    this.space = new FlatDictBox(os);
  }

  override get observationSpace(): FlatDictBox {
    return this.space;
  }

  override reset(args?: ResetArgs): ResetResult<Float32Array> {
    const r = this.env.reset(args);
    // A fresh array per observation: envs never hand out a buffer they overwrite later.
    return { obs: flattenDictObs(this.space.layout, r.obs), info: r.info };
  }

  override step(action: unknown): StepResult<Float32Array> {
    const r = this.env.step(action);
    return { ...r, obs: flattenDictObs(this.space.layout, r.obs) };
  }
}
