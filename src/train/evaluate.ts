/**
 * Evaluation: N episodes on fresh envs (never the training envs), several in parallel, episode j
 * reset with seed `baseSeed + j` so an evaluation is reproducible and recordable.
 */
import type { Agent, ActResult } from '../agents/agent.js';
import type { Env, ObsArray } from '../envs/env.js';
import { SeededRng } from '../envs/rng.js';
import type { Box, Space } from '../envs/spaces.js';
import { actionAt, actionWidth } from '../envs/actions.js';

/** One finished evaluation episode, handed to `onEvalEpisode` (e.g. an episode recorder). */
export interface EvalEpisode {
  /** Index within this evaluation. */
  index: number;
  /** Reset seed: `make(game).reset({seed})` then these actions replays the episode. */
  seed: number;
  /** A number per step for Discrete actions, a row (typed array) for MultiDiscrete and Box. */
  actions: Array<number | Int32Array | Float32Array>;
  rewards: number[];
  return: number;
  length: number;
  /** Per-step agent info (q, or probs and value) for episodes with index < `annotateEpisodes`. */
  annotations?: Array<Record<string, unknown>>;
}

export interface EvalOptions {
  makeEnv: () => Env<ObsArray, number>;
  episodes: number;
  baseSeed: number;
  /** DQN/DRQN evaluation exploration rate (0 = greedy); policy agents act greedily in evaluation. */
  epsilon: number;
  /** Envs stepped together (default min(episodes, 16)). */
  parallel?: number;
  onEpisode?: (e: EvalEpisode) => void | Promise<void>;
  /** Episodes with index below this also collect per-step agent info (costs a read-back; default 0). */
  annotateEpisodes?: number;
}

export interface EvalResult {
  returns: number[];
  lengths: number[];
}

/** Summary in the shape `npcforge eval --json` prints. */
export function summarise(r: EvalResult): { episodes: number; mean_return: number; std_return: number; min_return: number; max_return: number; mean_length: number } {
  const n = r.returns.length;
  const mean = n ? r.returns.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n ? r.returns.reduce((a, b) => a + (b - mean) * (b - mean), 0) / n : 0;
  return {
    episodes: n,
    mean_return: mean,
    std_return: Math.sqrt(variance),
    min_return: n ? Math.min(...r.returns) : 0,
    max_return: n ? Math.max(...r.returns) : 0,
    mean_length: n ? r.lengths.reduce((a, b) => a + b, 0) / n : 0,
  };
}

/** Row `i` of a batched act() info as the viewer's annotation: probs and value, or Q-values. */
function stepAnnotation(info: ActResult['info'], i: number, rows: number): Record<string, unknown> {
  const row = (a: Float32Array): number[] => {
    const n = a.length / rows;
    return Array.from(a.subarray(i * n, (i + 1) * n));
  };
  if (info.probs) return { probs: row(info.probs), ...(info.value ? { value: info.value[i] } : {}) };
  if (info.values) return { q: row(info.values) };
  return {};
}

/** Runs the evaluation; returns per-episode returns and lengths ordered by episode index. */
export async function evaluate(agent: Agent, o: EvalOptions): Promise<EvalResult> {
  const returns = new Array<number>(o.episodes).fill(0);
  const lengths = new Array<number>(o.episodes).fill(0);
  if (o.episodes === 0) return { returns, lengths };
  const k = Math.min(o.parallel ?? 16, o.episodes);
  const envs = Array.from({ length: k }, () => o.makeEnv());
  const size = (envs[0]!.observationSpace as Box).size;
  const actionSpace = envs[0]!.actionSpace as Space<unknown>;
  const width = actionWidth(actionSpace);
  const rng = new SeededRng(o.baseSeed);
  const slotEpisode = new Int32Array(k).fill(-1);
  const obsRows: ObsArray[] = new Array(k);
  const acts: EvalEpisode['actions'][] = Array.from({ length: k }, () => []);
  const rews: number[][] = Array.from({ length: k }, () => []);
  const anns: Array<Array<Record<string, unknown>>> = Array.from({ length: k }, () => []);
  const annotateBelow = o.annotateEpisodes ?? 0;
  let next = 0;
  const start = (slot: number): void => {
    if (next >= o.episodes) {
      slotEpisode[slot] = -1;
      return;
    }
    const ep = next++;
    slotEpisode[slot] = ep;
    obsRows[slot] = envs[slot]!.reset({ seed: o.baseSeed + ep }).obs;
    acts[slot] = [];
    rews[slot] = [];
    anns[slot] = [];
  };
  for (let s = 0; s < k; s++) start(s);
  let active = k;
  // Recurrent agents keep one state row per slot: every slot stays in the batch (finished slots
  // repeat their last observation, their actions unused) and a new episode resets its row.
  const recurrent = agent.recurrent === true;
  let state: unknown;
  const starts = new Float32Array(k).fill(1);
  while (active > 0) {
    const slots: number[] = [];
    for (let s = 0; s < k; s++) if (slotEpisode[s]! >= 0) slots.push(s);
    active = slots.length;
    if (!active) break;
    const rows = recurrent ? Array.from({ length: k }, (_, s) => s) : slots;
    const first = obsRows[rows[0]!]!;
    const batch = new (first.constructor as { new (n: number): ObsArray })(rows.length * size);
    rows.forEach((s, i) => batch.set(obsRows[s]!, i * size));
    const withValues = rows.some((s) => slotEpisode[s]! >= 0 && slotEpisode[s]! < annotateBelow);
    const res = await agent.act(batch, { numEnvs: rows.length, mode: 'eval', epsilon: o.epsilon, rng, withValues, ...(recurrent ? { episodeStarts: starts } : {}) }, state);
    const actions = res.actions;
    state = res.state;
    starts.fill(0);
    for (let i = 0; i < rows.length; i++) {
      const s = rows[i]!;
      const ep = slotEpisode[s]!;
      if (ep < 0) continue;
      const action = actionAt(actions, i, width, actionSpace) as number | Int32Array | Float32Array;
      const r = envs[s]!.step(action as number);
      returns[ep]! += r.reward;
      lengths[ep]! += 1;
      if (o.onEpisode) {
        acts[s]!.push(action);
        rews[s]!.push(r.reward);
        if (ep < annotateBelow) anns[s]!.push(stepAnnotation(res.info, i, rows.length));
      }
      obsRows[s] = r.obs;
      if (r.terminated || r.truncated) {
        if (o.onEpisode) {
          const annotations = ep < annotateBelow ? { annotations: anns[s]! } : {};
          await o.onEpisode({ index: ep, seed: o.baseSeed + ep, actions: acts[s]!, rewards: rews[s]!, return: returns[ep]!, length: lengths[ep]!, ...annotations });
        }
        start(s);
        starts[s] = 1;
      }
    }
  }
  for (const e of envs) e.close();
  return { returns, lengths };
}
