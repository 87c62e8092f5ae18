/**
 * The rollout storage of a distributed PPO learner: checked segments from actors (each
 * `envs x numSteps`, env-major as on the wire) gathered until they hold the run's rollout
 * (`numEnvs` columns of `numSteps` steps, or the nearest whole number of segments above it), then
 * handed out as one time-major `OffPolicyRollout` for `PolicyGradientAgent.learnOffPolicy`.
 */
import type { ObsArray } from '../envs/env.js';
import type { OffPolicyRollout } from '../agents/pg/learner.js';
import type { PgActions } from '../agents/pg/rollout.js';
import type { ExperienceBatch } from './experience.js';

function like(a: ObsArray, n: number): ObsArray {
  return a instanceof Uint8Array ? new Uint8Array(n) : a instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
}

export class SegmentRollout {
  private readonly waiting: ExperienceBatch[] = [];
  private columns = 0;

  /**
   * @param numSteps steps per segment (the run's numSteps; the decoder refuses others)
   * @param numEnvs columns a rollout needs at least (the run's numEnvs)
   * @param obsSize values per observation
   * @param actionWidth values per stored action
   */
  constructor(private readonly o: { numSteps: number; numEnvs: number; obsSize: number; actionWidth: number }) {}

  /** Segments waiting, and their columns (sub-envs). */
  get size(): { segments: number; columns: number } {
    return { segments: this.waiting.length, columns: this.columns };
  }

  add(b: ExperienceBatch): void {
    this.waiting.push(b);
    this.columns += b.header.numEnvs;
  }

  /** True when the waiting segments hold a rollout. */
  ready(): boolean {
    return this.columns >= this.o.numEnvs;
  }

  /** The oldest segments that make a rollout, time-major (row t * columns + c); the rest keep waiting. */
  take(): OffPolicyRollout {
    const { numSteps: T, obsSize: S, actionWidth: Wa } = this.o;
    const parts: ExperienceBatch[] = [];
    let C = 0;
    while (C < this.o.numEnvs) {
      const b = this.waiting.shift()!;
      parts.push(b);
      C += b.header.numEnvs;
    }
    this.columns -= C;
    const rows = T * C;
    const obs = like(parts[0]!.obs, rows * S);
    const lastObs = like(parts[0]!.obs, C * S);
    const actions: PgActions = parts[0]!.actions instanceof Float32Array ? new Float32Array(rows * Wa) : new Int32Array(rows * Wa);
    const behaviourLogProbs = new Float32Array(rows);
    const rewards = new Float32Array(rows);
    const terminated = new Uint8Array(rows);
    const truncated = new Uint8Array(rows);
    const truncRows: number[] = [];
    const truncObs: ObsArray[] = [];
    let c0 = 0;
    for (const b of parts) {
      const E = b.header.numEnvs;
      // Final observations are env-major then step order, one per ended episode.
      let k = 0;
      for (let e = 0; e < E; e++) {
        const c = c0 + e;
        for (let t = 0; t < T; t++) {
          const src = e * T + t;
          const dst = t * C + c;
          obs.set(b.obs.subarray((e * (T + 1) + t) * S, (e * (T + 1) + t + 1) * S), dst * S);
          actions.set(b.actions.subarray(src * Wa, (src + 1) * Wa), dst * Wa);
          behaviourLogProbs[dst] = b.logProbs![src]!;
          rewards[dst] = b.rewards[src]!;
          terminated[dst] = b.terminated[src]!;
          truncated[dst] = b.truncated[src]!;
          if (b.terminated[src] || b.truncated[src]) {
            // Only a truncation bootstraps from its final observation.
            if (!b.terminated[src]) {
              truncRows.push(dst);
              truncObs.push(b.finalObs.subarray(k * S, (k + 1) * S));
            }
            k++;
          }
        }
        lastObs.set(b.obs.subarray((e * (T + 1) + T) * S, (e * (T + 1) + T + 1) * S), c * S);
      }
      c0 += E;
    }
    const finals = like(parts[0]!.obs, truncObs.length * S);
    truncObs.forEach((f, i) => finals.set(f, i * S));
    return { numSteps: T, numEnvs: C, obs, lastObs, actions, behaviourLogProbs, rewards, terminated, truncated, truncRows: Int32Array.from(truncRows), truncObs: finals };
  }
}
