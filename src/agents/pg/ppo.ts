/**
 * PPO (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), as CleanRL's `ppo.py`,
 * `ppo_atari_lstm.py` and `ppo_continuous_action.py`:
 *
 *   advantages  A_t = GAE(gamma, lambda):  delta_t = r_t + gamma V(s_{t+1}) - V(s_t),
 *                                          A_t = delta_t + gamma lambda A_{t+1}   (reset at episode ends)
 *   returns     R_t = A_t + V(s_t)
 *   ratio       rho_t = exp(log pi(a_t|s_t) - log pi_old(a_t|s_t))
 *   policy loss L_pi = mean(max(-A_t rho_t, -A_t clip(rho_t, 1 - eps, 1 + eps)))
 *   value loss  L_V  = 0.5 mean(max((V - R)^2, (V_old + clip(V - V_old, -eps_v, eps_v) - R)^2))
 *   loss        L = L_pi - entCoef H(pi) + vfCoef L_V   (added by the learner)
 *
 * `epochs` passes over the rollout, each in `minibatches` shuffled minibatches (recurrent nets:
 * whole per-env sequences with their stored start state); advantages normalised per minibatch.
 * Defaults (lr 2.5e-4 annealed, 128 steps, 4 epochs, 4 minibatches, clip 0.2, gamma 0.99,
 * lambda 0.95, entCoef 0.01, vfCoef 0.5, max grad norm 0.5, Adam eps 1e-5): CleanRL `ppo.py` and
 * "The 37 Implementation Details of PPO" (Huang et al. 2022); see `config.ts`.
 */
import { clippedSurrogateLoss, gae, normalizeAdvantages } from './math.js';
import { gatherRows, gatherSequences, newRowBatch, type Rollout, type RolloutLayout, type TrainBatch } from './rollout.js';
import type { BatchContext, OnPolicyAlgorithm } from './learner.js';
import type { PgConfig } from './config.js';

/**
 * Feed-forward minibatches, made one at a time as the learner asks for them, into two buffers
 * reused for the whole update (the minibatches of a 32-256 env rollout are megabytes each). The
 * permutation of an epoch is drawn when its first minibatch is asked for; the gradient steps
 * between draw nothing from the RNG, so the stream is the one of drawing every epoch up front.
 */
function* rowBatches(r: Rollout, config: PgConfig, layout: RolloutLayout, permutation: BatchContext['permutation'], advantages: Float32Array, returns: Float32Array): Generator<TrainBatch> {
  const rows = r.numSteps * r.numEnvs;
  const mbs = Math.max(1, Math.min(config.minibatches, rows));
  // Minibatch m takes the permutation's entries m, m + mbs, ...: sizes differ by at most one.
  const sizes = [Math.ceil(rows / mbs), Math.floor(rows / mbs)];
  const buffers = new Map<number, TrainBatch>(sizes.filter((n) => n > 0).map((n) => [n, newRowBatch(layout, r.obs, n)]));
  const picked = new Int32Array(sizes[0]!);
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const perm = permutation(rows);
    for (let m = 0; m < mbs; m++) {
      let n = 0;
      for (let i = m; i < rows; i += mbs) picked[n++] = perm[i]!;
      const b = gatherRows(layout, r, picked.subarray(0, n), advantages, returns, buffers.get(n));
      if (config.normAdv) normalizeAdvantages(b.advantages!, { mask: b.mask, out: b.advantages! });
      yield b;
    }
  }
}

/** Recurrent minibatches: whole per-env sequences, each with its stored start state. */
function* sequenceBatches(r: Rollout, config: PgConfig, layout: RolloutLayout, permutation: BatchContext['permutation'], advantages: Float32Array, returns: Float32Array): Generator<TrainBatch> {
  const N = r.numEnvs;
  const mbs = Math.max(1, Math.min(config.minibatches, N));
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const perm = permutation(N);
    for (let m = 0; m < mbs; m++) {
      const b = gatherSequences(layout, r, perm.filter((_, i) => i % mbs === m), advantages, returns);
      if (config.normAdv) b.advantages = normalizeAdvantages(b.advantages!, { mask: b.mask });
      yield b;
    }
  }
}

export const ppo: OnPolicyAlgorithm = {
  name: 'ppo',

  batches(r, { config, layout, recurrent, permutation, targets }) {
    // Targets from outside (V-trace of a distributed learner) replace GAE; the loss stays the same.
    const { advantages, returns } = targets ?? gae({ ...r, gamma: config.gamma, lambda: config.gaeLambda });
    return recurrent ? sequenceBatches(r, config, layout, permutation, advantages, returns) : rowBatches(r, config, layout, permutation, advantages, returns);
  },

  policyLoss({ logProbs, oldLogProbs, advantages, mask, config }) {
    return clippedSurrogateLoss({ logProbs, oldLogProbs: oldLogProbs!, advantages, clip: config.clip, mask });
  },

  valueClip: (config) => config.valueClip,
};
