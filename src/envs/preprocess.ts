/**
 * Observation preprocessing as pure functions over typed arrays: the GrayScale, Resize and
 * FrameStack wrappers call them during training, and `src/runtime` calls the same functions on
 * frames handed in by a game, so a deployed policy sees exactly the inputs it was trained on.
 * No tfjs, no DOM, no Node built-ins here.
 */

/** A typed array holding one observation. */
export type PixelArray = Uint8Array | Int32Array | Float32Array;

/** ITU-R BT.601 luma weights (R, G, B). */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;
// The same weights in 16-bit fixed point (they sum to 65536), so the hot loop stays in integers.
const WR = 19595;
const WG = 38470;
const WB = 7471;

/** Converts `[H, W, 3]` uint8 RGB to `[H, W, 1]` luma: round(0.299 R + 0.587 G + 0.114 B) in 16-bit fixed point. */
export function rgbToGray(rgb: Uint8Array, out: Uint8Array = new Uint8Array(rgb.length / 3)): Uint8Array {
  for (let i = 0, j = 0; j < out.length; i += 3, j++) {
    out[j] = (WR * rgb[i]! + WG * rgb[i + 1]! + WB * rgb[i + 2]! + 32768) >>> 16;
  }
  return out;
}

/** Per output pixel p, taps `start[p]..start[p+1]`: source pixel index and weight. */
export interface ResizeTaps {
  inHeight: number;
  inWidth: number;
  height: number;
  width: number;
  start: Int32Array;
  pixel: Int32Array;
  weight: Float64Array;
}

/**
 * Area-averaging taps along one axis: output cell o covers source interval [o*s, (o+1)*s),
 * s = src/dst; each source pixel contributes its overlap with that interval (weights sum to 1).
 */
function axisTaps(src: number, dst: number): { start: Int32Array; count: Int32Array; index: Int32Array; weight: Float64Array } {
  const scale = src / dst;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const index: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < dst; o++) {
    const a = o * scale;
    const b = (o + 1) * scale;
    start[o] = index.length;
    for (let i = Math.floor(a); i < Math.min(src, Math.ceil(b)); i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap <= 1e-12) continue;
      index.push(i);
      weight.push(overlap / scale);
    }
    count[o] = index.length - start[o]!;
  }
  return { start, count, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/** Precomputes the 2-D area-averaging taps of a `[inHeight, inWidth] -> [height, width]` resize (shrink or enlarge). */
export function resizeTaps(inHeight: number, inWidth: number, height: number, width: number): ResizeTaps {
  const rows = axisTaps(inHeight, height);
  const cols = axisTaps(inWidth, width);
  const start = [0];
  const pixel: number[] = [];
  const weight: number[] = [];
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      for (let a = rows.start[oy]!; a < rows.start[oy]! + rows.count[oy]!; a++) {
        for (let b = cols.start[ox]!; b < cols.start[ox]! + cols.count[ox]!; b++) {
          pixel.push(rows.index[a]! * inWidth + cols.index[b]!);
          weight.push(rows.weight[a]! * cols.weight[b]!);
        }
      }
      start.push(pixel.length);
    }
  }
  return { inHeight, inWidth, height, width, start: Int32Array.from(start), pixel: Int32Array.from(pixel), weight: Float64Array.from(weight) };
}

/** Resizes one `[inHeight, inWidth, C]` frame into `out` (`[height, width, C]`); integer outputs are rounded. */
export function resizeInto(src: ArrayLike<number>, taps: ResizeTaps, channels: number, round: boolean, out: PixelArray): PixelArray {
  const { start, pixel, weight } = taps;
  const C = channels;
  const n = taps.height * taps.width;
  for (let p = 0; p < n; p++) {
    const t0 = start[p]!;
    const t1 = start[p + 1]!;
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let t = t0; t < t1; t++) acc += weight[t]! * src[pixel[t]! * C + c]!;
      out[p * C + c] = round ? Math.round(acc) : acc;
    }
  }
  return out;
}

/**
 * Interleaves k frames (given oldest first) of `pixels` pixels x `channels` channels along the last
 * axis into `out`: `[..., C]` x k -> `[..., C*k]`, channel block j holding frame j.
 */
export function stackFramesInto(ordered: ReadonlyArray<ArrayLike<number>>, channels: number, pixels: number, out: PixelArray): PixelArray {
  const k = ordered.length;
  const C = channels;
  // Write the output sequentially; read the k frames in parallel.
  let o = 0;
  for (let p = 0, i = 0; p < pixels; p++, i += C) {
    for (let j = 0; j < k; j++) {
      const frame = ordered[j]!;
      for (let c = 0; c < C; c++) out[o++] = frame[i + c]!;
    }
  }
  return out;
}
