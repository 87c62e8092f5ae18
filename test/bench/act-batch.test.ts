/** bench act-batch's measurement: one timing per round for each side, and the parity check it reports can fail. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { batchTimes } from '../../bench/act-batch-timing.js';
import { basicPolicyFile, writePolicyBundle } from '../../src/export/export-policy.js';
import { buildQNetwork } from '../../src/networks/builders.js';
import { loadPolicy } from '../../src/runtime/index.js';

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
});
