import { InvalidConfigError, SpaceMismatchError, formatError, describe } from '../../errors.js';
import { Wrapper, drawFrame, type Env, type RgbFrame, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { Box } from '../spaces.js';
import { checkOptions, integerAtLeast } from './validate.js';

export interface PixelObservationOptions {
  /** Frame height in pixels; omitted = probed from the innermost env's `render()`. */
  height?: number;
  /** Frame width in pixels; omitted = probed like `height`. */
  width?: number;
}

/** Replaces the observation with the env's RGB render: a uint8 Box `[height, width, 3]`. */
export class PixelObservation<Act = number> extends Wrapper<Uint8Array, Act, unknown, Act> {
  // A pure function of each observation / reward: nothing carries over between steps.
  static override readonly stateless = true;
  private readonly space: Box<'uint8'>;

  constructor(env: Env<any, Act>, options: PixelObservationOptions = {}) {
    super(env);
    checkOptions('PixelObservation', options, { height: integerAtLeast(1), width: integerAtLeast(1) }, '{ height: 100, width: 150 }');
    let { height, width } = options;
    if (height === undefined || width === undefined) {
      // The innermost env draws without the OrderEnforcing check; rendering has no side effects.
      let probe: RgbFrame;
      try {
        probe = drawFrame(this.unwrapped);
      } catch (err) {
        throw new InvalidConfigError(formatError('PixelObservation', 'an env whose render() works before reset, or explicit height and width', `render() threw: ${(err as Error).message}`, 'pass { height, width }'), { cause: err });
      }
      height ??= probe.height;
      width ??= probe.width;
    }
    this.space = new Box({ shape: [height, width, 3], dtype: 'uint8', low: 0, high: 255 });
  }

  override get observationSpace(): Box<'uint8'> {
    return this.space;
  }

  private frame(): Uint8Array {
    const f = drawFrame(this.env);
    const [h, w] = this.space.shape as [number, number, number];
    if (f.height !== h || f.width !== w || f.data.length !== h * w * 3) {
      throw new SpaceMismatchError(formatError('PixelObservation', `a ${w}x${h} RGB frame`, `${f.width}x${f.height} (${describe(f.data)})`, 'pass the height and width the env renders at'));
    }
    return f.data;
  }

  override reset(args?: ResetArgs): ResetResult<Uint8Array> {
    const r = this.env.reset(args);
    return { obs: this.frame(), info: r.info };
  }

  override step(action: Act): StepResult<Uint8Array> {
    const r = this.env.step(action);
    return { obs: this.frame(), reward: r.reward, terminated: r.terminated, truncated: r.truncated, info: r.info };
  }
}
