/**
 * An ordered list of grid entities stored as parallel typed arrays (no object per entity), for the
 * game loops that run millions of times per second. Order is insertion order; removal keeps it.
 */
export class EntityList {
  length = 0;
  x: Int32Array;
  y: Int32Array;
  /** 1 when moving (or facing) right. */
  right: Int32Array;
  moveTimer: Int32Array;
  shotTimer: Int32Array;

  constructor(capacity = 32) {
    this.x = new Int32Array(capacity);
    this.y = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.moveTimer = new Int32Array(capacity);
    this.shotTimer = new Int32Array(capacity);
  }

  /** Appends an entity at the end (newest). */
  push(x: number, y: number, right: number, moveTimer: number, shotTimer: number): void {
    if (this.length === this.x.length) this.grow();
    const i = this.length++;
    this.x[i] = x;
    this.y[i] = y;
    this.right[i] = right;
    this.moveTimer[i] = moveTimer;
    this.shotTimer[i] = shotTimer;
  }

  /** Removes entry i; later (newer) entries shift down by one. */
  remove(i: number): void {
    const end = this.length;
    if (i < end - 1) {
      this.x.copyWithin(i, i + 1, end);
      this.y.copyWithin(i, i + 1, end);
      this.right.copyWithin(i, i + 1, end);
      this.moveTimer.copyWithin(i, i + 1, end);
      this.shotTimer.copyWithin(i, i + 1, end);
    }
    this.length = end - 1;
  }

  /** Index of the oldest entity on (x, y), or -1. */
  findAt(x: number, y: number): number {
    for (let i = 0; i < this.length; i++) if (this.x[i] === x && this.y[i] === y) return i;
    return -1;
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const cap = this.x.length * 2;
    const g = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.x = g(this.x);
    this.y = g(this.y);
    this.right = g(this.right);
    this.moveTimer = g(this.moveTimer);
    this.shotTimer = g(this.shotTimer);
  }

  /** JSON-safe copy: one `[x, y, right, moveTimer, shotTimer]` per entity, oldest first. */
  toJSON(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.length; i++) out.push([this.x[i]!, this.y[i]!, this.right[i]!, this.moveTimer[i]!, this.shotTimer[i]!]);
    return out;
  }

  /** Replaces the contents with entries from `toJSON`. */
  load(rows: readonly (readonly number[])[]): void {
    this.clear();
    for (const r of rows) this.push(r[0]!, r[1]!, r[2]!, r[3]!, r[4]!);
  }
}
