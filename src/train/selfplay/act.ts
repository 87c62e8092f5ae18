/** Acting for seats that a policy plays from outside the env (self-play opponents, eval and league matches). */
import type { Agent } from '../../agents/agent.js';
import type { ObsArray } from '../../envs/env.js';
import type { Rng } from '../../envs/rng.js';

/**
 * One action per observation in `rows`, from one batched `act` in evaluation mode (nothing is
 * recorded in the agent). With `sample`, the action is drawn from the policy's probabilities with
 * that RNG (inverse CDF, one draw per row); agents without probabilities (DQN) and calls without
 * `sample` take the agent's greedy action.
 */
export async function actRows(agent: Pick<Agent, 'act'>, rows: readonly ObsArray[], sample: Rng | null): Promise<number[]> {
  if (rows.length === 0) return [];
  const size = rows[0]!.length;
  const batch = new (rows[0]!.constructor as { new (n: number): ObsArray })(rows.length * size);
  rows.forEach((r, i) => batch.set(r, i * size));
  const res = await agent.act(batch, { numEnvs: rows.length, mode: 'eval' });
  const greedy = Array.from(res.actions as ArrayLike<number>, Number);
  const probs = res.info.probs;
  if (!sample || !probs) return greedy;
  const A = probs.length / rows.length;
  return rows.map((_, i) => {
    const u = sample.random();
    let acc = 0;
    for (let a = 0; a < A; a++) {
      acc += probs[i * A + a]!;
      if (u < acc) return a;
    }
    return A - 1;
  });
}
