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

/** One actor's segment of transitions for `segmentPriorities` (layout of `distributed/experience.ts`). */
export interface SegmentPriorityInput {
  numEnvs: number;
  /** Steps per sub-env. */
  steps: number;
  numActions: number;
  /** Q(obs row, .) of every observation row `[numEnvs, steps + 1, numActions]` (row `steps`: after the last step). */
  q: ArrayLike<number>;
  /** Q(final obs, .) of the ended episodes `[ends, numActions]`, env-major then step order. */
  qFinal: ArrayLike<number>;
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  terminated: ArrayLike<number>;
  truncated: ArrayLike<number>;
  gamma: number;
  nStep: number;
}

/**
 * Ape-X initial priorities: |G - Q(s_t, a_t)| per transition, with G the n-step return folded
 * inside the segment as the replay memory folds it (stopping at an episode end or the segment's
 * end) and bootstrapped with max_a Q of the state it stops at (0 after termination; the final
 * observation after truncation). All Q-values come from the actor's copy of the online network.
 */
export function segmentPriorities(input: SegmentPriorityInput, out: Float32Array = new Float32Array(input.numEnvs * input.steps)): Float32Array {
  const { numEnvs: E, steps: T, numActions: A, q, qFinal, actions, rewards, terminated, truncated, gamma, nStep } = input;
  const maxQ = (values: ArrayLike<number>, row: number): number => {
    let m = values[row * A]!;
    for (let a = 1; a < A; a++) m = Math.max(m, values[row * A + a]!);
    return m;
  };
  // Index of each transition's final observation (ended episodes only).
  const finalIndex = new Int32Array(E * T).fill(-1);
  let ends = 0;
  for (let i = 0; i < E * T; i++) if (terminated[i] || truncated[i]) finalIndex[i] = ends++;
  for (let e = 0; e < E; e++) {
    for (let t = 0; t < T; t++) {
      let g = 0;
      let discount = 1;
      let bootstrap = 0;
      for (let m = 0; ; m++) {
        const i = e * T + t + m;
        g += discount * rewards[i]!;
        discount *= gamma;
        if (terminated[i]) break;
        if (truncated[i]) {
          bootstrap = discount * maxQ(qFinal, finalIndex[i]!);
          break;
        }
        if (m + 1 === nStep || t + m + 1 === T) {
          bootstrap = discount * maxQ(q, e * (T + 1) + t + m + 1);
          break;
        }
      }
      out[e * T + t] = Math.abs(g + bootstrap - q[(e * (T + 1) + t) * A + actions[e * T + t]!]!);
    }
  }
  return out;
}

export interface HuberLossInput {
  /** Online Q(s, .) of the batch, row-major `[batch, numActions]` (float32 values). */
  q: ArrayLike<number>;
  /** Action taken in each sample. */
  actions: ArrayLike<number>;
  /** TD targets, one per sample (float32 values). */
  targets: ArrayLike<number>;
  numActions: number;
}

const f32 = Math.fround;

/**
 * The DQN loss, mean over the batch of huber(target - Q(s, a)) (delta 1), and its gradient with
 * respect to every Q-value (written into `dq`, `[batch, numActions]`), on the host. Why: as tensor
 * ops (`huberTensor`, the one-hot selection, the mean) the loss and its tape cost about 20 small
 * kernel calls per update, a tenth of a MinAtar update's CPU. Each line below is one of those
 * ops, in float32 (a double result of one +, -, *, / on float32 values rounds to the same float32),
 * in the order tfjs runs them, so the gradient is bit for bit what the tape gives on any backend,
 * signed zeros included, and the loss what the `wasm` backend's mean gives (it sums in float32;
 * `cpu` sums in doubles, a last-bit difference), checked in test/agents/dqn/huber-grad.test.ts.
 */
export function huberLossGrad(input: HuberLossInput, dq: Float32Array): number {
  const { q, actions, targets, numActions: A } = input;
  const B = targets.length;
  // mean's gradient: 1 / B per sample (mul(dy = 1, ones) / B).
  const g = f32(1 / B);
  let sum = 0;
  for (let i = 0; i < B; i++) {
    const act = actions[i]!;
    // Q(s, a) = sum(q * onehot, 1): the products, summed left to right from 0.
    let qa = 0;
    for (let a = 0; a < A; a++) qa = f32(qa + f32(q[i * A + a]! * (a === act ? 1 : 0)));
    const td = f32(targets[i]! - qa);
    const abs = Math.abs(td);
    const quad = Math.min(abs, 1);
    sum = f32(sum + f32(f32(0.5 * f32(quad * quad)) + f32(abs - quad)));
    // Backward: 0.5 * quad^2 gives g * 0.5 * (quad * 2); (abs - quad) gives +g to abs, -g to quad.
    const dQuad = f32(f32(f32(g * 0.5) * f32(quad * 2)) + -g);
    const dAbs = f32(g + f32(dQuad * (abs <= 1 ? 1 : 0)));
    // abs' = step(td, -1): 1 above 0, else -1; then qa = target - td flips the sign.
    const dQa = -f32(dAbs * (td > 0 ? 1 : -1));
    for (let a = 0; a < A; a++) dq[i * A + a] = dQa * (a === act ? 1 : 0);
  }
  return f32(sum / B);
}
