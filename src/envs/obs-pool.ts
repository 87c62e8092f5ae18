/**
 * Fresh observation arrays without a fresh `ArrayBuffer` per step. Allocating a small typed array
 * costs a buffer allocation outside the JS heap (about 20x the cost of a MinAtar step); a view into
 * a shared chunk costs little. Each view handed out covers bytes no other view uses and that are
 * never written again by the pool, so observations stay valid forever. Trade-off, documented in
 * docs/minatar.md: `obs.buffer` is the whole chunk (use `byteOffset`/`byteLength`), and a kept
 * observation keeps its chunk alive.
 */
export class ObsPool {
  /** Bytes per observation. */
  readonly size: number;
  private readonly chunkBytes: number;
  private chunk: ArrayBuffer;
  private offset: number;

  /** `chunkBytes` is rounded to a whole number of observations (at least one). */
  constructor(size: number, chunkBytes = 65536) {
    this.size = size;
    this.chunkBytes = Math.max(1, Math.floor(chunkBytes / size)) * size;
    this.chunk = new ArrayBuffer(this.chunkBytes);
    this.offset = 0;
  }

  /** A zero-filled array of `size` bytes that the pool will never hand out or touch again. */
  take(): Uint8Array {
    if (this.offset === this.chunkBytes) {
      this.chunk = new ArrayBuffer(this.chunkBytes);
      this.offset = 0;
    }
    const view = new Uint8Array(this.chunk, this.offset, this.size);
    this.offset += this.size;
    return view;
  }
}
