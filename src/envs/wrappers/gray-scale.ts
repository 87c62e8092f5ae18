import { SpaceMismatchError, formatError } from '../../errors.js';
import { Wrapper, type Env, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { Box } from '../spaces.js';
import { requireBox } from './validate.js';

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

/** RGB HWC uint8 observations -> one luma channel, `[H, W, 1]`. */
export class GrayScale extends Wrapper<Uint8Array, number, Uint8Array, number> {
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
