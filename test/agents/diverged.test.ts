/**
 * Non-finite training (issue 14): an update whose loss or gradient norm is NaN or Infinity stops
 * the run with TrainingDivergedError. A learning rate large enough to diverge no longer passes
 * config validation, so the tests make the loss overflow float32 instead: rewards of 1e30 give
 * squared TD errors / value errors of 1e60.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../games/index.js';
import { CatchEnv } from '../../games/catch/catch.js';
import { register } from '../../src/envs/registry.js';
import { SyncVectorEnv } from '../../src/envs/vector/sync-vector-env.js';
import type { Env, ObsArray, StepResult } from '../../src/envs/env.js';
import { DQN_PRESETS, resolveDqnConfig } from '../../src/agents/dqn/config.js';
import { DqnAgent } from '../../src/agents/dqn/dqn-agent.js';
import { DrqnAgent } from '../../src/agents/dqn/drqn-agent.js';
import { PolicyGradientAgent } from '../../src/agents/pg/learner.js';
import type { Agent } from '../../src/agents/agent.js';
import { TrainingDivergedError } from '../../src/errors.js';
import { initBackend } from '../../src/networks/backend.js';
import { main } from '../../src/cli/main.js';

/** Catch with every reward times 1e30 (float32 still holds it; its square does not). */
class HugeRewardCatch extends CatchEnv {
  override step(action: number): StepResult<Uint8Array> {
    const r = super.step(action);
    return { ...r, reward: r.reward * 1e30 };
  }
}
register('test/huge-reward', (o) => new HugeRewardCatch(o), { maxEpisodeSteps: 50 });

beforeAll(async () => {
  await initBackend({ quiet: true });
});

/** Drives `agent` on 2 huge-reward envs until an update throws; returns the error (or null after `steps`). */
async function driveUntilError(agent: Agent, steps: number): Promise<unknown> {
  const vec = new SyncVectorEnv(() => new HugeRewardCatch() as Env<ObsArray, number>, 2);
  let obs = (await vec.reset({ seed: 1 })).obs;
  try {
    for (let i = 0; i < steps; i++) {
      const { actions } = await agent.act(obs, { numEnvs: 2, mode: 'train' });
      const r = vec.stepSync(actions);
      await agent.observe({ obs, actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, nextObs: r.obs, finalObs: r.infos.map((x) => x.finalObs as ObsArray | undefined) });
      obs = r.obs;
    }
    return null;
  } catch (err) {
    return err;
  } finally {
    agent.dispose();
    await vec.close();
  }
}

const spaces = (): { observationSpace: Env['observationSpace']; actionSpace: Env['actionSpace'] } => {
  const env = new HugeRewardCatch();
  return { observationSpace: env.observationSpace, actionSpace: env.actionSpace };
};

describe('training that diverges stops with TrainingDivergedError', () => {
  it('DQN (squared loss)', async () => {
    const config = resolveDqnConfig(DQN_PRESETS.classic!, { network: { kind: 'mlp', hidden: [16] }, loss: 'mse', gradClipNorm: 0, batchSize: 8, learningStarts: 16, bufferSize: 500 });
    const err = await driveUntilError(new DqnAgent({ config, ...spaces(), numEnvs: 2, seed: 1 }), 200);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect((err as Error).message).toMatch(/^\[dqn\.update\] expected a finite loss and gradient norm, received loss (Infinity|NaN), gradient norm \S+ at update \d+ \(training diverged\); fix: lower the learning rate/);
  });

  it('DRQN (squared loss)', async () => {
    const config = resolveDqnConfig(DQN_PRESETS.classic!, { network: { kind: 'mlp', hidden: [16] }, lstmUnits: 8, seqLength: 4, burnIn: 0, loss: 'mse', gradClipNorm: 0, batchSize: 4, learningStarts: 16, bufferSize: 500 });
    const err = await driveUntilError(new DrqnAgent({ config, ...spaces(), numEnvs: 2, seed: 1 }), 200);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect((err as Error).message).toMatch(/^\[drqn\.update\] expected a finite loss/);
  });

  it('PPO and A2C (value loss)', async () => {
    for (const algorithm of ['ppo', 'a2c'] as const) {
      const agent = new PolicyGradientAgent({ config: { algorithm, encoder: 'mlp', mlpHidden: [16], numSteps: 8, minibatches: 2, epochs: 2, annealSteps: 10_000 }, ...spaces(), numEnvs: 2, seed: 1 });
      const err = await driveUntilError(agent, 100);
      expect(err, algorithm).toBeInstanceOf(TrainingDivergedError);
      expect((err as Error).message).toMatch(new RegExp(`^\\[${algorithm}\\.update\\] expected a finite loss and gradient norm, received loss`));
    }
  });
});

describe('CLI: a diverging run', () => {
  let dir = '';
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1 with one line saying training diverged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'npcforge-diverged-'));
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
    writeFileSync(join(dir, 'small.json'), JSON.stringify({ numSteps: 8, minibatches: 2, mlpHidden: [16], encoder: 'mlp' }));
    const code = await main(['train', 'test/huge-reward', '--agent', 'ppo', '--steps', '400', '--envs', '2', '--config', join(dir, 'small.json'), '--out', dir, '--no-progress']);
    const lines = err.join('').trim().split('\n').filter((l) => !/^npcforge: backend /.test(l));
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npcforge: \[ppo\.update\] expected a finite loss and gradient norm, .*\(training diverged\); fix: /);
  });
});
