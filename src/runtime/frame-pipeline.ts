/**
 * Turns the raw frames a game produces into the observations the network was trained on, with the
 * same functions the training wrappers use (src/envs/preprocess.ts). Buffers are allocated once.
 */
import { SpaceMismatchError, formatError, describe } from '../errors.js';
import { resizeInto, resizeTaps, rgbToGray, stackFramesInto, type PixelArray, type ResizeTaps } from '../envs/preprocess.js';
import { shapeSize, type ObsDtype, type PolicyFile } from './policy-file.js';

type Stage =
  | { kind: 'grayscale'; out: Uint8Array }
  | { kind: 'resize'; taps: ResizeTaps; channels: number; round: boolean; out: PixelArray }
  | { kind: 'frameStack'; k: number; channels: number; pixels: number; frames: PixelArray[]; ordered: PixelArray[]; head: number; out: PixelArray };

function alloc(dtype: ObsDtype, n: number): PixelArray {
  return dtype === 'uint8' ? new Uint8Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

export class FramePipeline {
  /** Values in one raw frame. */
  readonly frameSize: number;
  /** Values in one network observation. */
  readonly obsSize: number;
  private readonly stages: Stage[] = [];
  /** True until the first frame after `reset`: the frame stack then fills every slot with it. */
  private fresh = true;

  constructor(policy: PolicyFile) {
    this.frameSize = shapeSize(policy.frame.shape);
    this.obsSize = shapeSize(policy.observation.shape);
    let shape = policy.frame.shape.slice();
    const dtype = policy.frame.dtype;
    for (const s of policy.preprocess) {
      if (s.kind === 'grayscale') {
        shape = [shape[0]!, shape[1]!, 1];
        this.stages.push({ kind: 'grayscale', out: new Uint8Array(shapeSize(shape)) });
      } else if (s.kind === 'resize') {
        const taps = resizeTaps(shape[0]!, shape[1]!, s.height, s.width);
        shape = [s.height, s.width, shape[2]!];
        this.stages.push({ kind: 'resize', taps, channels: shape[2]!, round: dtype !== 'float32', out: alloc(dtype, shapeSize(shape)) });
      } else {
        const channels = shape[shape.length - 1]!;
        const size = shapeSize(shape);
        this.stages.push({ kind: 'frameStack', k: s.k, channels, pixels: size / channels, frames: Array.from({ length: s.k }, () => alloc(dtype, size)), ordered: new Array(s.k), head: 0, out: alloc(dtype, size * s.k) });
        shape = [...shape.slice(0, -1), channels * s.k];
      }
    }
  }

  /** Forgets past frames (call at the start of an episode). */
  reset(): void {
    this.fresh = true;
  }

  /**
   * The network observation for `input`: a raw frame (run through the chain) or, when its length
   * is the observation's and not the frame's, an already preprocessed observation. The result may
   * be an internal buffer, valid until the next call.
   */
  process(input: ArrayLike<number>): ArrayLike<number> {
    if (input.length === this.frameSize) return this.run(input);
    if (input.length === this.obsSize) return input;
    throw new SpaceMismatchError(formatError('policy.act', `a frame of ${this.frameSize} values or an observation of ${this.obsSize} values`, `${describe(input)} with ${input.length} values`, 'pass the frame the game renders for the policy (see policy.json frame.shape)'));
  }

  private run(frame: ArrayLike<number>): ArrayLike<number> {
    let x: ArrayLike<number> = frame;
    for (const st of this.stages) {
      if (st.kind === 'grayscale') x = rgbToGray(x as Uint8Array, st.out);
      else if (st.kind === 'resize') x = resizeInto(x, st.taps, st.channels, st.round, st.out);
      else {
        if (this.fresh) {
          for (const f of st.frames) f.set(x);
          st.head = 0;
        } else {
          // The oldest slot becomes the newest, as in the FrameStack wrapper.
          st.frames[st.head]!.set(x);
          st.head = (st.head + 1) % st.k;
        }
        for (let j = 0; j < st.k; j++) st.ordered[j] = st.frames[(st.head + j) % st.k]!;
        x = stackFramesInto(st.ordered, st.channels, st.pixels, st.out);
      }
    }
    this.fresh = false;
    return x;
  }
}
