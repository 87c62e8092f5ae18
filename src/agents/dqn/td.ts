/** Pure TD-target math of the DQN family, checked against hand-computed numbers in the tests. */

export interface TdTargetInput {
  /** (n-step) discounted reward sums, one per sample. */
  returns: ArrayLike<number>;
  /** gamma^m factor of the bootstrap value, one per sample. */
  discounts: ArrayLike<number>;
  /** 1 where the episode terminated (game over): no bootstrap. Truncation is NOT termination. */
  terminated: ArrayLike<number>;
  /** Target-network Q(s', .) row-major `[batch, numActions]`. */
  nextQTarget: ArrayLike<number>;
  /** Online-network Q(s', .) for double DQN's action choice; omit for vanilla max. */
  nextQOnline?: ArrayLike<number>;
  numActions: number;
}

/**
 * y = R + discount * (1 - terminated) * Q_target(s', a*), with a* = argmax Q_online(s', .) (double
 * DQN) or argmax Q_target(s', .) (vanilla). Writes into `out` and returns it.
 */
export function tdTargets(input: TdTargetInput, out: Float32Array = new Float32Array(input.returns.length)): Float32Array {
  const { returns, discounts, terminated, nextQTarget, nextQOnline, numActions: A } = input;
  const select = nextQOnline ?? nextQTarget;
  for (let i = 0; i < returns.length; i++) {
    let best = 0;
    let bestV = select[i * A]!;
    for (let a = 1; a < A; a++) {
      const v = select[i * A + a]!;
      if (v > bestV) {
        bestV = v;
        best = a;
      }
    }
    // Bootstrap through truncation, never through termination.
    const bootstrap = terminated[i] ? 0 : discounts[i]! * nextQTarget[i * A + best]!;
    out[i] = returns[i]! + bootstrap;
  }
  return out;
}

/** Linear exploration schedule with an initial fully random phase (all in env steps). */
export function epsilonAt(step: number, s: { learningStarts: number; epsilonStart: number; epsilonEnd: number; epsilonDecaySteps: number }): number {
  if (step < s.learningStarts) return 1;
  const t = Math.min(1, (step - s.learningStarts) / Math.max(1, s.epsilonDecaySteps));
  return s.epsilonStart + t * (s.epsilonEnd - s.epsilonStart);
}

/** Huber loss of one error (delta = threshold between the quadratic and linear parts). */
export function huber(x: number, delta = 1): number {
  const a = Math.abs(x);
  return a <= delta ? 0.5 * x * x : delta * (a - 0.5 * delta);
}
