/**
 * Optional per-frame observations of an episode: what the agent's network read, stored next to the
 * rendered frames so that the viewer can explain a decision (saliency) from the exact input. The
 * rendered frame cannot stand in for it: a MinAtar observation is 10x10xC binary channels that
 * overlap in one drawn cell, and a pixel game's is grayscaled, resized and frame-stacked.
 *
 * Layout (docs/episode-format.md, "Observations"): the header's `observations` field names the
 * dtype and shape; each chunk then carries `obsData`, the DEFLATE of its `frames` observations
 * (little-endian values; the first as is, each later one XOR the previous one, byte by byte, which
 * leaves mostly zeros between consecutive frames), and `obsCrc`, the CRC-32 of `obsData`. Readers
 * that predate the field ignore both: such files keep their version and stay readable everywhere.
 * Browser-safe.
 */
import type { SpaceJSON } from '../../envs/spaces.js';

/** Element type of stored observations. */
export type ObservationDtype = 'uint8' | 'int32' | 'float32';

/** The header's `observations` field: present when every chunk carries its frames' observations. */
export interface EpisodeObservations {
  dtype: ObservationDtype;
  /** The observation's shape, e.g. `[10, 10, 4]` (MinAtar) or `[84, 84, 4]` (a stacked pixel game). */
  shape: number[];
}

/** An observation as read back. */
export type ObservationArray = Uint8Array | Int32Array | Float32Array;

/** Most values in one stored observation (84x84x4 is 28k; 1M leaves room for larger pixel inputs). */
export const MAX_OBSERVATION_VALUES = 1 << 20;
/** Most observation bytes one chunk inflates to (frames x values x bytes per value). */
export const MAX_CHUNK_OBS_BYTES = 1 << 26;

const BYTES: Record<ObservationDtype, number> = { uint8: 1, int32: 4, float32: 4 };

/** Bytes per stored value of `dtype`. */
export function observationBytes(dtype: ObservationDtype): number {
  return BYTES[dtype];
}

/** Values in one observation of `o`. */
export function observationSize(o: EpisodeObservations): number {
  return o.shape.reduce((a, b) => a * b, 1);
}

/**
 * The problem with a header's `observations` field (for errors), or null. Shared by the encoder
 * and the reader: the encoder refuses to write what the reader would refuse to read.
 */
export function observationsProblem(v: unknown, keyframeInterval: number): string | null {
  const o = v as Partial<EpisodeObservations> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'observations as a map of dtype and shape';
  if (o.dtype !== 'uint8' && o.dtype !== 'int32' && o.dtype !== 'float32') return "observations.dtype 'uint8', 'int32' or 'float32'";
  const shape = o.shape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 4) return 'observations.shape of 1 to 4 dimensions';
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) return 'observations.shape of positive integers';
    size *= d;
    if (size > MAX_OBSERVATION_VALUES) return `observations of at most ${MAX_OBSERVATION_VALUES} values`;
  }
  if (keyframeInterval * size * BYTES[o.dtype] > MAX_CHUNK_OBS_BYTES) return `at most ${MAX_CHUNK_OBS_BYTES} observation bytes per chunk (keyframeInterval x values x bytes)`;
  return null;
}

/**
 * What the observations of an env with `space` are stored as, given the first one: its typed array
 * names the dtype (a plain array of numbers is stored as float32), the Box space the shape. A
 * one-line problem (for errors) when the format cannot store it (Dict spaces, a length that is not
 * the space's).
 */
export function observationsOf(first: unknown, space: SpaceJSON): EpisodeObservations | string {
  if (space.type !== 'Box') return `a Box observation space (received ${space.type})`;
  const shape = [...space.shape];
  const dtype: ObservationDtype = first instanceof Uint8Array || first instanceof Uint8ClampedArray ? 'uint8' : first instanceof Int32Array ? 'int32' : 'float32';
  const o = { dtype, shape };
  const n = observationSize(o);
  const len = (first as ArrayLike<number> | null)?.length;
  if (typeof first !== 'object' || first === null || len !== n) return `an observation of ${n} numbers (shape [${shape.join(', ')}])`;
  return o;
}

/** One observation as its stored bytes (little-endian), in a new array. */
export function observationToBytes(obs: ArrayLike<number>, o: EpisodeObservations): Uint8Array {
  const n = observationSize(o);
  if (o.dtype === 'uint8') return Uint8Array.from(obs as ArrayLike<number>);
  const out = new Uint8Array(n * 4);
  const dv = new DataView(out.buffer);
  if (o.dtype === 'int32') for (let i = 0; i < n; i++) dv.setInt32(i * 4, obs[i]!, true);
  else for (let i = 0; i < n; i++) dv.setFloat32(i * 4, obs[i]!, true);
  return out;
}

/** The stored planes of a chunk's observations: the first as is, each later one XOR the previous one. */
export function encodeObservationPlanes(rows: readonly Uint8Array[]): Uint8Array {
  const n = rows[0]?.length ?? 0;
  const planes = new Uint8Array(rows.length * n);
  rows.forEach((r, k) => {
    if (k === 0) planes.set(r, 0);
    else {
      const prev = rows[k - 1]!;
      const off = k * n;
      for (let i = 0; i < n; i++) planes[off + i] = r[i]! ^ prev[i]!;
    }
  });
  return planes;
}

/** Undoes the XOR deltas of `planes` (rows of `rowBytes` bytes) in place. */
export function decodeObservationPlanes(planes: Uint8Array, rowBytes: number): void {
  for (let off = rowBytes; off < planes.length; off += rowBytes) {
    for (let i = 0; i < rowBytes; i++) planes[off + i] = planes[off + i]! ^ planes[off - rowBytes + i]!;
  }
}

/** Observation `k` of decoded planes as a new typed array of the stored dtype. */
export function observationFromPlanes(planes: Uint8Array, k: number, o: EpisodeObservations): ObservationArray {
  const n = observationSize(o);
  const b = BYTES[o.dtype];
  const off = k * n * b;
  if (o.dtype === 'uint8') return planes.slice(off, off + n);
  const dv = new DataView(planes.buffer, planes.byteOffset + off, n * b);
  if (o.dtype === 'int32') {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}
