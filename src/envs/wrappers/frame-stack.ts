import { Wrapper, type WrapperState, type Env, type ObsArray, type ResetArgs, type ResetResult, type StepResult } from '../env.js';
import { Box } from '../spaces.js';
import { allocObs, checkOptions, integerAtLeast, requireBox, stateError } from './validate.js';
import { stackFramesInto } from '../preprocess.js';

export interface FrameStackOptions {
  /** Number of most recent observations stacked (default 4). */
  k?: number;
}

export const FRAME_STACK_DEFAULTS = { k: 4 } as const;

/**
 * Stacks the last `k` observations along the LAST axis: `[..., C]` -> `[..., C*k]`, oldest first
 * (channel block j, 0 <= j < k, holds the observation of k-1-j steps ago). `reset` fills every slot
 * with the first observation. Each call returns a fresh array.
 */
export class FrameStack extends Wrapper<ObsArray, number, ObsArray, number> {
  readonly k: number;
  private readonly space: Box;
  private readonly channels: number;
  private readonly pixels: number;
  /** Ring of the last k inner observations; `head` is the slot of the oldest. */
  private readonly frames: ObsArray[];
  private head = 0;
  /** Scratch: the frames oldest first. */
  private readonly ordered: ObsArray[] = [];

  constructor(env: Env<ObsArray, number>, options: FrameStackOptions = {}) {
    super(env);
    checkOptions('FrameStack', options, { k: integerAtLeast(1) }, '{ k: 4 }');
    this.k = options.k ?? FRAME_STACK_DEFAULTS.k;
    const box = requireBox('FrameStack', env.observationSpace);
    this.channels = box.shape[box.shape.length - 1]!;
    this.pixels = box.size / this.channels;
    const shape = [...box.shape.slice(0, -1), this.channels * this.k];
    this.space = new Box({ shape, dtype: box.dtype, low: this.interleave(box.low), high: this.interleave(box.high) });
    this.frames = Array.from({ length: this.k }, () => allocObs(box.dtype, box.size));
  }

  private interleave(bound: Float64Array): number[] {
    const out = new Array<number>(bound.length * this.k);
    const C = this.channels;
    for (let p = 0; p < this.pixels; p++) for (let j = 0; j < this.k; j++) for (let c = 0; c < C; c++) out[(p * this.k + j) * C + c] = bound[p * C + c]!;
    return out;
  }

  override get observationSpace(): Box {
    return this.space;
  }

  private stacked(): ObsArray {
    const k = this.k;
    const ordered = this.ordered;
    for (let j = 0; j < k; j++) ordered[j] = this.frames[(this.head + j) % k]!;
    return stackFramesInto(ordered, this.channels, this.pixels, allocObs(this.space.dtype, this.space.size));
  }

  override reset(args?: ResetArgs): ResetResult<ObsArray> {
    const r = this.env.reset(args);
    for (const f of this.frames) f.set(r.obs);
    this.head = 0;
    return { obs: this.stacked(), info: r.info };
  }

  override step(action: number): StepResult<ObsArray> {
    const r = this.env.step(action);
    // The oldest slot becomes the newest.
    this.frames[this.head]!.set(r.obs);
    this.head = (this.head + 1) % this.k;
    return { ...r, obs: this.stacked() };
  }

  /** The ring of the last k observations (as plain arrays, oldest slot at `head`). */
  override getWrapperState(): WrapperState {
    return { head: this.head, frames: this.frames.map((f) => Array.from(f)) };
  }

  override setWrapperState(state: WrapperState): void {
    const { head, frames } = state ?? {};
    const size = this.frames[0]!.length;
    const ok = Number.isInteger(head) && (head as number) >= 0 && (head as number) < this.k && Array.isArray(frames) && frames.length === this.k && frames.every((f) => Array.isArray(f) && f.length === size && f.every((v) => typeof v === 'number'));
    if (!ok) throw stateError('FrameStack', `a state {head, frames: ${this.k} arrays of ${size} numbers}`, state);
    (frames as number[][]).forEach((f, i) => this.frames[i]!.set(f));
    this.head = head as number;
  }
}
