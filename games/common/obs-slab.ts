/**
 * Fresh observation arrays without one ArrayBuffer allocation per step. `new Uint8Array(n)` above
 * V8's on-heap limit (64 bytes) costs a few microseconds, more than a whole game step; carving
 * views out of a larger zeroed slab costs a fraction of that. Every view is handed out once and
 * never written again by the env, so the Env contract (observations are never overwritten) holds.
 * Consumers must respect `byteOffset` (use `obs.slice()` or copy by element) and must not transfer
 * `obs.buffer` to a worker: the buffer is the shared slab.
 */
export class ObsSlab {
  private buffer: ArrayBuffer;
  private offset = 0;
  private readonly slabBytes: number;

  /** `size`: bytes per observation; `slabBytes`: bytes per slab (default 64 KiB, at least `size`). */
  constructor(readonly size: number, slabBytes = 1 << 16) {
    this.slabBytes = Math.max(slabBytes, size);
    this.buffer = new ArrayBuffer(this.slabBytes);
  }

  /** A zeroed view of `size` bytes that no later call will hand out again. */
  next(): Uint8Array {
    if (this.offset + this.size > this.slabBytes) {
      this.buffer = new ArrayBuffer(this.slabBytes);
      this.offset = 0;
    }
    const view = new Uint8Array(this.buffer, this.offset, this.size);
    this.offset += this.size;
    return view;
  }
}
