/**
 * Sum tree over a fixed number of leaves: O(log n) priority update, total and prefix-sum search.
 * Backs proportional prioritized replay.
 */
export class SumTree {
  readonly size: number;
  /** Leaves start at `leafBase`; node i has children 2i and 2i+1; node 1 is the root. */
  readonly nodes: Float64Array;
  private readonly leafBase: number;

  constructor(size: number) {
    let base = 1;
    while (base < size) base *= 2;
    this.size = size;
    this.leafBase = base;
    this.nodes = new Float64Array(2 * base);
  }

  /** Sum of every leaf. */
  total(): number {
    return this.nodes[1]!;
  }

  /** Value of leaf `i`. */
  get(i: number): number {
    return this.nodes[this.leafBase + i]!;
  }

  /** Sets leaf `i` to `value` (>= 0) and updates its ancestors. */
  set(i: number, value: number): void {
    let n = this.leafBase + i;
    this.nodes[n] = value;
    n >>= 1;
    while (n >= 1) {
      this.nodes[n] = this.nodes[2 * n]! + this.nodes[2 * n + 1]!;
      n >>= 1;
    }
  }

  /** Index of the leaf where the running sum first exceeds `mass` (0 <= mass < total). */
  find(mass: number): number {
    let n = 1;
    while (n < this.leafBase) {
      const left = this.nodes[2 * n]!;
      if (mass < left || this.nodes[2 * n + 1] === 0) {
        n = 2 * n;
      } else {
        mass -= left;
        n = 2 * n + 1;
      }
    }
    return Math.min(n - this.leafBase, this.size - 1);
  }
}
