/**
 * bench act-batch's measurement: one timing per round for each side, and the parity check it
 * reports can fail; on the arena example's committed policy with the arena's own observations,
 * actBatch for 64 NPCs equals act() per NPC within 1e-5.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { batchTimes } from '../../bench/act-batch-timing.js';
import { basicPolicyFile, writePolicyBundle } from '../../src/export/export-policy.js';
import { buildQNetwork } from '../../src/networks/builders.js';
import { InvalidConfigError } from '../../src/errors.js';
import { SeededRng } from '../../src/envs/rng.js';
import { loadPolicy } from '../../src/runtime/index.js';
// @ts-expect-error plain ES module without types (the example is written like a user's game)
import { ArenaEnv } from '../../examples/arena/arena.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-bench-act-batch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bench act-batch: batchTimes', () => {
  it('times each round of actBatch and of N act() calls, and finds them equal', async () => {
    await tf.ready();
    const model = buildQNetwork({ inputShape: [8], numActions: 4, encoder: { kind: 'mlp', hidden: [16] }, head: { kind: 'q' }, seed: 2 });
    await writePolicyBundle(tmp, basicPolicyFile({ game: 'bench', output: 'logits', agent: 'ppo', observation: { shape: [8], dtype: 'float32' }, actions: ['a', 'b', 'c', 'd'] }), model);
    model.dispose();
    const policy = await loadPolicy(tmp);
    const t = await batchTimes(policy, { npcs: 6, calls: 3, warmup: 1 });
    expect(t.batch).toHaveLength(3);
    expect(t.single).toHaveLength(3);
    expect(t.sameActions).toBe(true);
    expect(t.maxDiff).toBeLessThan(1e-5);
    // A batch that answered for the wrong NPCs would be reported: reverse the batch's results.
    const actBatch = policy.actBatch.bind(policy);
    policy.actBatch = async (obs, states, options) => (await actBatch(obs, states, options)).reverse();
    const wrong = await batchTimes(policy, { npcs: 6, calls: 1, warmup: 0 });
    expect(wrong.maxDiff).toBeGreaterThan(1e-5);
    policy.dispose();
  });

  it('on the arena policy with observations from the arena env: 64 x actBatch equals act() within 1e-5', async () => {
    await tf.ready();
    // 64 arena episodes a few random steps in: the situations the page's NPCs are in.
    const rng = new SeededRng(3);
    const observations = Array.from({ length: 64 }, (_, i) => {
      const env = new ArenaEnv({ others: 3 }) as { reset(a: { seed: number }): { obs: Float32Array }; step(a: number): { obs: Float32Array; terminated: boolean; truncated: boolean } };
      let obs = env.reset({ seed: 100 + i }).obs;
      for (let t = rng.int(0, 40); t > 0; t--) {
        const r = env.step(rng.int(0, 9));
        if (r.terminated || r.truncated) break;
        obs = r.obs;
      }
      return Array.from(obs);
    });
    const policy = await loadPolicy(join(__dirname, '..', '..', 'examples', 'arena', 'npc'), { game: 'arena' });
    const t = await batchTimes(policy, { npcs: 64, calls: 5, warmup: 1, observations });
    expect(t.maxDiff).toBeLessThanOrEqual(1e-5);
    expect(t.sameActions).toBe(true);
    await expect(batchTimes(policy, { npcs: 64, calls: 1, warmup: 0, observations: observations.slice(1) })).rejects.toThrow(InvalidConfigError);
    policy.dispose();
  });
});
