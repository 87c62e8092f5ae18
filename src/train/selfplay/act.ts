/** Acting for seats that a policy plays from outside the env (self-play opponents, eval and league matches). */
import type { Agent } from '../../agents/agent.js';
import type { ObsArray } from '../../envs/env.js';
import type { Rng } from '../../envs/rng.js';

/** What the agent thought for one row (the viewer's bars): action probabilities and value, else Q-values. */
export interface RowInfo {
  q?: number[];
  probs?: number[];
  value?: number;
}

/** Row i of a batched act() info: probabilities and value for policy agents, else the Q-values. */
function rowInfo(info: { values?: Float32Array; probs?: Float32Array; value?: Float32Array }, i: number, rows: number): RowInfo {
  const row = (a: Float32Array): number[] => {
    const A = a.length / rows;
    return Array.from(a.subarray(i * A, (i + 1) * A));
  };
  if (info.probs) return { probs: row(info.probs), ...(info.value ? { value: info.value[i]! } : {}) };
  return info.values ? { q: row(info.values) } : {};
}

/**
 * One action per observation in `rows`, from one batched `act` in evaluation mode (nothing is
 * recorded in the agent). With `sample`, the action is drawn from the policy's probabilities with
 * that RNG (inverse CDF, one draw per row); agents without probabilities (DQN) and calls without
 * `sample` take the agent's greedy action. `onInfo` (recording) also asks for the values and gets
 * each row's probabilities and value, or Q-values.
 */
export async function actRows(agent: Pick<Agent, 'act'>, rows: readonly ObsArray[], sample: Rng | null, onInfo?: (row: number, info: RowInfo) => void): Promise<number[]> {
  if (rows.length === 0) return [];
  const size = rows[0]!.length;
  const batch = new (rows[0]!.constructor as { new (n: number): ObsArray })(rows.length * size);
  rows.forEach((r, i) => batch.set(r, i * size));
  const res = await agent.act(batch, { numEnvs: rows.length, mode: 'eval', ...(onInfo ? { withValues: true } : {}) });
  const greedy = Array.from(res.actions as ArrayLike<number>, Number);
  if (onInfo) rows.forEach((_, i) => onInfo(i, rowInfo(res.info, i, rows.length)));
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
