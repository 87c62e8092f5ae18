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
  private readonly inH: number;
  private readonly inW: number;
  private readonly channels: number;
  private readonly rows: AxisTaps;
  private readonly cols: AxisTaps;
  private readonly acc: Float64Array;
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
    [this.inH, this.inW, this.channels] = box.shape as [number, number, number];
    const { low, high } = boundRange(box);
    this.space = new Box({ shape: [this.height, this.width, this.channels], dtype: box.dtype, low, high });
    this.rows = axisTaps(this.inH, this.height);
    this.cols = axisTaps(this.inW, this.width);
    this.acc = new Float64Array(this.channels);
    this.round = box.dtype !== 'float32';
  }

  override get observationSpace(): Box {
    return this.space;
  }

  /** Resizes one frame into a fresh array. */
  resize(src: ObsArray): ObsArray {
    const { rows, cols, channels: C, acc, inW } = this;
    const out = allocObs(this.space.dtype, this.space.size);
    let o = 0;
    for (let oy = 0; oy < this.height; oy++) {
      const y0 = rows.start[oy]!;
      const yn = rows.count[oy]!;
      for (let ox = 0; ox < this.width; ox++) {
        const x0 = cols.start[ox]!;
        const xn = cols.count[ox]!;
        acc.fill(0);
        for (let a = 0; a < yn; a++) {
          const wy = rows.weight[y0 + a]!;
          const rowBase = rows.index[y0 + a]! * inW;
          for (let b = 0; b < xn; b++) {
            const w = wy * cols.weight[x0 + b]!;
            const base = (rowBase + cols.index[x0 + b]!) * C;
            for (let c = 0; c < C; c++) acc[c]! += w * src[base + c]!;
          }
        }
        for (let c = 0; c < C; c++) out[o++] = this.round ? Math.round(acc[c]!) : acc[c]!;
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
