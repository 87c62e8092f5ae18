/**
 * The measurement of bench/act-batch.ts, shared by Node and the Chromium page: `calls` rounds,
 * each timing one `actBatch` over N observations and N separate `act()` calls on the same ones.
 */
import { InvalidConfigError, formatError } from '../src/errors.js';
import type { Policy, PolicyAction } from '../src/runtime/index.js';

export interface BatchTimes {
  /** ms of each `actBatch(observations)` call (N NPCs). */
  batch: number[];
  /** ms of each round of N `act()` calls. */
  single: number[];
  /** Largest |actBatch - act| over the per-action numbers (probs, q or mean) of the last round, and whether every action was the same. */
  maxDiff: number;
  sameActions: boolean;
}

/**
 * Times `actBatch` vs N x `act` on varied observations (a few values flip every round). Starts
 * from `observations` (N of them, copied; e.g. the game's own) when given, else synthetic ones.
 */
export async function batchTimes(policy: Policy, o: { npcs: number; calls: number; warmup: number; observations?: ArrayLike<number>[] }): Promise<BatchTimes> {
  const size = policy.file.observation.shape.reduce((a, b) => a * b, 1);
  const byte = policy.file.observation.dtype === 'uint8';
  if (o.observations && (o.observations.length !== o.npcs || o.observations.some((x) => x.length !== size))) {
    throw new InvalidConfigError(formatError('bench act-batch', `${o.npcs} observations of ${size} values`, `${o.observations.length} observations`, 'pass one observation per NPC, shaped like the policy\'s'));
  }
  const obs = Array.from({ length: o.npcs }, (_, k) => {
    const x = byte ? new Uint8Array(size) : new Float32Array(size);
    if (o.observations) x.set(o.observations[k]!);
    else for (let i = 0; i < size; i++) x[i] = byte ? ((i + k) * 7919) % 2 : Math.sin(i * 0.7 + k);
    return x;
  });
  const flip = (round: number): void => {
    for (const x of obs) x[round % size] = byte ? x[round % size]! ^ 1 : -x[round % size]!;
  };
  for (let i = 0; i < o.warmup; i++) {
    await policy.actBatch(obs);
    for (const x of obs) await policy.act(x);
  }
  const batch: number[] = [];
  const single: number[] = [];
  let maxDiff = 0;
  let sameActions = true;
  for (let r = 0; r < o.calls; r++) {
    flip(r);
    let t0 = performance.now();
    const many = await policy.actBatch(obs);
    batch.push(performance.now() - t0);
    const ones: PolicyAction[] = [];
    t0 = performance.now();
    for (const x of obs) ones.push(await policy.act(x));
    single.push(performance.now() - t0);
    if (r === o.calls - 1) {
      // The figures only count if the batch answers what act() answers, on this backend too.
      ones.forEach((one, k) => {
        const a = (one.probs ?? one.q ?? one.mean)!;
        const b = (many[k]!.probs ?? many[k]!.q ?? many[k]!.mean)!;
        for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
        if (String(one.action) !== String(many[k]!.action)) sameActions = false;
      });
    }
  }
  return { batch, single, maxDiff, sameActions };
}
