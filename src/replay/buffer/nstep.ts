/** Pure n-step return math shared by the replay buffer and its tests. */

/** Result of folding up to n rewards of one episode. */
export interface NStepResult {
  /** Discounted sum `r_0 + g r_1 + ... + g^(m-1) r_(m-1)`. */
  ret: number;
  /** Number of transitions folded, 1 <= m <= n. */
  steps: number;
  /** `g^m`: the factor applied to the bootstrap value. */
  discount: number;
  /** True when the last folded transition ended the game (no bootstrap). */
  terminated: boolean;
}

/**
 * Folds rewards until n transitions, an episode end or the end of the data. `ended[k]` is 1 when
 * transition k ended the episode (terminated or truncated); `terminated[k]` says which kind.
 */
export function nStepReturn(rewards: ArrayLike<number>, terminated: ArrayLike<number>, ended: ArrayLike<number>, available: number, n: number, gamma: number): NStepResult {
  let ret = 0;
  let g = 1;
  let m = 0;
  let term = false;
  while (m < n && m < available) {
    ret += g * rewards[m]!;
    g *= gamma;
    m++;
    if (ended[m - 1]) {
      term = terminated[m - 1] === 1;
      break;
    }
  }
  return { ret, steps: m, discount: g, terminated: term };
}
