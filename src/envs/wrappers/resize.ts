import { SpaceMismatchError, formatError } from '../../errors.js';
import { Wrapper, type Env, type ObsArray, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { Box } from '../spaces.js';
import { allocObs, boundRange, checkOptions, integerAtLeast, requireBox } from './validate.js';
import { resizeInto, resizeTaps, type ResizeTaps } from '../preprocess.js';

export interface ResizeOptions {
  /** Output height in pixels. */
  height: number;
  /** Output width in pixels. */
  width: number;
}

/** Resizes `[H, W, C]` observations to `[height, width, C]` by area averaging, any channel count and dtype. */
export class Resize extends Wrapper<ObsArray, number, ObsArray, number> {
  // A pure function of each observation / reward: nothing carries over between steps.
  static override readonly stateless = true;
  readonly height: number;
  readonly width: number;
  private readonly space: Box;
  private readonly channels: number;
  private readonly taps: ResizeTaps;
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
    this.taps = resizeTaps(inH, inW, this.height, this.width);
    this.round = box.dtype !== 'float32';
  }

  override get observationSpace(): Box {
    return this.space;
  }

  /** Resizes one frame into a fresh array. */
  resize(src: ObsArray): ObsArray {
    return resizeInto(src, this.taps, this.channels, this.round, allocObs(this.space.dtype, this.space.size));
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
