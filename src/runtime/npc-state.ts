/**
 * What one NPC remembers between decisions: its frame stack and its recurrent (LSTM) state. A
 * policy makes one per NPC (`policy.createState()`); `actBatch` reads and advances it.
 */
import * as tf from '@tensorflow/tfjs';
import { FramePipeline } from './frame-pipeline.js';
import type { PolicyFile } from './policy-file.js';

export class NpcState {
  /** The NPC's frame pipeline (its own frame stack). Internal to the runtime. */
  readonly pipeline: FramePipeline;
  /** Recurrent state tensors `[1, ...shape]`, owned by this object (empty for feed-forward). Internal to the runtime. */
  tensors: tf.Tensor[] = [];
  private readonly shapes: number[][];
  private readonly onDispose: (s: NpcState) => void;
  private isDisposed = false;

  /** Made by `policy.createState()`; `onDispose` lets the policy forget it. */
  constructor(file: PolicyFile, onDispose: (s: NpcState) => void) {
    this.pipeline = new FramePipeline(file);
    this.shapes = file.recurrentState?.shapes ?? [];
    this.onDispose = onDispose;
    this.reset();
  }

  /** Whether `dispose()` was called (by the game, or by the policy's own `dispose()`). */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Starts a new episode for this NPC: clears its frame stack and zeroes its recurrent state. */
  reset(): void {
    this.pipeline.reset();
    for (const t of this.tensors) t.dispose();
    this.tensors = this.isDisposed ? [] : this.shapes.map((s) => tf.zeros([1, ...s]));
  }

  /** Frees the state tensors (call when the NPC leaves the game). */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    for (const t of this.tensors) t.dispose();
    this.tensors = [];
    this.onDispose(this);
  }
}
