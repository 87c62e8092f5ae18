/**
 * A2C, the synchronous advantage actor-critic (Mnih et al. 2016, "Asynchronous Methods for Deep
 * Reinforcement Learning"; synchronous form as in OpenAI Baselines / SB3 `A2C`):
 *
 *   returns     R_t = r_t + gamma R_{t+1}, bootstrapped with V(s_T) after the rollout's last
 *               step (n-step returns, n = numSteps), 0 after a termination, V(finalObs) after a truncation
 *   advantages  A_t = R_t - V(s_t)   (normalised over the rollout when normAdv)
 *   policy loss L_pi = -mean(A_t log pi(a_t|s_t))
 *   value loss  L_V  = 0.5 mean((V(s_t) - R_t)^2)
 *   loss        L = L_pi - entCoef H(pi) + vfCoef L_V   (added by the learner)
 *
 * One gradient step per rollout on the whole rollout (recurrent nets: from its stored start state).
 * Defaults (5 steps, lr 7e-4, entCoef 0.01, vfCoef 0.5, max grad norm 0.5, no advantage
 * normalisation): SB3 `A2C`; see `config.ts`.
 */
import { discountedReturns, normalizeAdvantages, policyGradientLoss } from './math.js';
import { wholeRollout } from './rollout.js';
import type { OnPolicyAlgorithm } from './learner.js';

export const a2c: OnPolicyAlgorithm = {
  name: 'a2c',

  batches(r, { config }) {
    const returns = discountedReturns({ ...r, gamma: config.gamma });
    const raw = returns.map((g, i) => g - r.values[i]!);
    return [wholeRollout(r, config.normAdv ? normalizeAdvantages(raw) : raw, returns)];
  },

  policyLoss: ({ logProbs, advantages, mask }) => ({ loss: policyGradientLoss({ logProbs, advantages, mask }) }),

  valueClip: () => null,
};
