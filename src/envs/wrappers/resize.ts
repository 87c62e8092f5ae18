import { SpaceMismatchError, formatError } from '../../errors.js';
import { Wrapper, type Env, type ObsArray, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { Box } from '../spaces.js';
import { allocObs, boundRange, checkOptions, integerAtLeast, requireBox } from './validate.js';

export interface ResizeOptions {
  /** Output height in pixels. */
  height: number;
  /** Output width in pixels. */
  width: number;
}

/** Source pixels and coverage weights of each output index along one axis (weights sum to 1). */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * Area-averaging taps: output cell o covers source interval [o*s, (o+1)*s), s = src/dst; each
 * source pixel contributes its overlap with that interval. Works for shrinking and enlarging.
 */
function axisTaps(src: number, dst: number): AxisTaps {
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

/** Resizes `[H, W, C]` observations to `[height, width, C]` by area averaging, any channel count and dtype. */
export class Resize extends Wrapper<ObsArray, number, ObsArray, number> {
  readonly height: number;
  readonly width: number;
  private readonly space: Box;
  private readonly channels: number;
  /** Per output pixel p, taps tapStart[p]..tapStart[p+1]: source pixel index and weight (2-D products of the axis taps). */
  private readonly tapStart: Int32Array;
  private readonly tapPixel: Int32Array;
  private readonly tapWeight: Float64Array;
  private readonly round: boolean;

  constructor(env: Env<ObsArray, number>, options: ResizeOptions) {
    super(env);
    checkOptions('Resize', options, { height: integerAtLeast(1), width: integerAtLeast(1) }, '{ height: 84, width: 84 }', ['height', 'width']);
    const box = requireBox('Resize', env.observationSpace);
    if (box.shape.length !== 3) {
      throw new SpaceMismatchError(formatError('Resize', 'a Box of shape [H, W, C]', `[${box.shape.join(', ')}]`, 'apply Resize to image observations'));
    }
    this.height = options.height;
    this.width = options.width;
    const [inH, inW, channels] = box.shape as [number, number, number];
    this.channels = channels;
    const { low, high } = boundRange(box);
    this.space = new Box({ shape: [this.height, this.width, channels], dtype: box.dtype, low, high });
    const rows = axisTaps(inH, this.height);
    const cols = axisTaps(inW, this.width);
    const start = [0];
    const pixel: number[] = [];
    const weight: number[] = [];
    for (let oy = 0; oy < this.height; oy++) {
      for (let ox = 0; ox < this.width; ox++) {
        for (let a = rows.start[oy]!; a < rows.start[oy]! + rows.count[oy]!; a++) {
          for (let b = cols.start[ox]!; b < cols.start[ox]! + cols.count[ox]!; b++) {
            pixel.push(rows.index[a]! * inW + cols.index[b]!);
            weight.push(rows.weight[a]! * cols.weight[b]!);
          }
        }
        start.push(pixel.length);
      }
    }
    this.tapStart = Int32Array.from(start);
    this.tapPixel = Int32Array.from(pixel);
    this.tapWeight = Float64Array.from(weight);
    this.round = box.dtype !== 'float32';
  }

  override get observationSpace(): Box {
    return this.space;
  }

  /** Resizes one frame into a fresh array. */
  resize(src: ObsArray): ObsArray {
    const { tapStart, tapPixel, tapWeight, channels: C, round } = this;
    const out = allocObs(this.space.dtype, this.space.size);
    const n = this.height * this.width;
    for (let p = 0; p < n; p++) {
      const t0 = tapStart[p]!;
      const t1 = tapStart[p + 1]!;
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let t = t0; t < t1; t++) acc += tapWeight[t]! * src[tapPixel[t]! * C + c]!;
        out[p * C + c] = round ? Math.round(acc) : acc;
      }
    }
    return out;
  }

  override reset(args?: ResetArgs): ResetResult<ObsArray> {
    const r = this.env.reset(args);
    return { obs: this.resize(r.obs), info: r.info };
  }

  override step(action: number): StepResult<ObsArray> {
    const r = this.env.step(action);
    return { ...r, obs: this.resize(r.obs) };
  }
}
