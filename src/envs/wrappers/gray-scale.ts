import { SpaceMismatchError, formatError } from '../../errors.js';
import { Wrapper, type Env, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { Box } from '../spaces.js';
import { requireBox } from './validate.js';
import { rgbToGray } from '../preprocess.js';

export { LUMA_WEIGHTS, rgbToGray } from '../preprocess.js';

/** RGB HWC uint8 observations -> one luma channel, `[H, W, 1]`. */
export class GrayScale extends Wrapper<Uint8Array, number, Uint8Array, number> {
  // A pure function of each observation / reward: nothing carries over between steps.
  static override readonly stateless = true;
  private readonly space: Box<'uint8'>;

  constructor(env: Env<Uint8Array, number>) {
    super(env);
    const box = requireBox('GrayScale', env.observationSpace);
    if (box.dtype !== 'uint8' || box.shape.length !== 3 || box.shape[2] !== 3) {
      throw new SpaceMismatchError(formatError('GrayScale', 'a uint8 Box of shape [H, W, 3]', `${box.dtype} [${box.shape.join(', ')}]`, 'apply GrayScale to RGB frames, e.g. after PixelObservation'));
    }
    this.space = new Box({ shape: [box.shape[0]!, box.shape[1]!, 1], dtype: 'uint8', low: 0, high: 255 });
  }

  override get observationSpace(): Box<'uint8'> {
    return this.space;
  }

  override reset(args?: ResetArgs): ResetResult<Uint8Array> {
    const r = this.env.reset(args);
    return { obs: rgbToGray(r.obs), info: r.info };
  }

  override step(action: number): StepResult<Uint8Array> {
    const r = this.env.step(action);
    return { ...r, obs: rgbToGray(r.obs) };
  }
}
