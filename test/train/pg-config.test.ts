import { describe, expect, it, vi } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { main } from '../../src/cli/main.js';
import { InvalidConfigError } from '../../src/errors.js';

describe('policy-gradient run configs', () => {
  it('uses the agent preset and step budget of the game', () => {
    const c = resolveRunConfig({ game: 'cartpole', agent: 'ppo' });
    expect(c.preset).toBe('cartpole');
    expect(c.run.steps).toBe(150_000);
    expect(c.run.envs).toBe(8);
    expect(c.agentConfig.algorithm).toBe('ppo');
    expect(c.agentConfig.numSteps).toBe(128);
    // The lr-annealing horizon defaults to the run's budget.
    expect(c.agentConfig.annealSteps).toBe(150_000);
    const r = resolveRunConfig({ game: 'catch', agent: 'reinforce', file: { lstmUnits: 32 }, flags: { steps: 1000 } });
    expect(r.agentConfig).toMatchObject({ algorithm: 'reinforce', lstmUnits: 32, reinforceEpisodes: 16 });
    expect(r.run.steps).toBe(1000);
    // A game without a row falls back to the default preset.
    expect(resolveRunConfig({ game: 'memory-maze', agent: 'a2c' }).preset).toBe('default');
  });

  it('pendulum: the ppo preset normalises, uses a separate critic, 4 envs, 400k steps; --recurrent shares the encoder instead', () => {
    const c = resolveRunConfig({ game: 'pendulum', agent: 'ppo' });
    expect([c.preset, c.run.steps, c.run.envs]).toEqual(['pendulum', 400_000, 4]);
    expect(c.agentConfig).toMatchObject({ numSteps: 512, epochs: 10, minibatches: 32, gamma: 0.9, valueClip: null, separateCritic: true, normObs: true, normReward: true, lstmUnits: 0 });
    const r = resolveRunConfig({ game: 'pendulum', agent: 'ppo', recurrent: true });
    expect(r.preset).toBe('pendulum+lstm');
    expect(r.agentConfig).toMatchObject({ separateCritic: false, lstmUnits: 64, normObs: true });
    expect(() => resolveRunConfig({ game: 'pendulum', agent: 'ppo', file: { lstmUnits: 8 } })).toThrow(/separateCritic=true with lstmUnits > 0/);
  });

  it('rejects bad policy-gradient keys, naming them', () => {
    expect(() => resolveRunConfig({ game: 'catch', agent: 'ppo', file: { clip: -1, lstmUnit: 3 } })).toThrow(InvalidConfigError);
    expect(() => resolveRunConfig({ game: 'catch', agent: 'ppo', file: { clip: -1, lstmUnit: 3 } })).toThrow(/unknown key lstmUnit.*clip=-1/);
  });

  it('`train --resume` refuses --recurrent with one clear line and exit code 2 (a resumed run keeps its config)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['train', '--resume', 'runs/none', '--recurrent']);
    const text = err.mock.calls.map((c) => String(c[0])).join('');
    err.mockRestore();
    expect(code).toBe(2);
    expect(text).toMatch(/\[train --resume\] expected only --steps, --checkpoint, --vector-env and --distributed next to --resume, received --recurrent; fix: /);
  });

  it('--recurrent picks the game\'s recurrent presets for ppo and dqn, and 128 LSTM units elsewhere', () => {
    const ppo = resolveRunConfig({ game: 'memory-maze', agent: 'ppo', recurrent: true });
    expect(ppo.preset).toBe('memory-maze+lstm');
    expect(ppo.agentConfig.lstmUnits).toBe(32);
    expect(resolveRunConfig({ game: 'memory-maze', agent: 'ppo' }).agentConfig.lstmUnits).toBe(0);
    const dqn = resolveRunConfig({ game: 'memory-maze', recurrent: true });
    expect(dqn.agentConfig.lstmUnits).toBe(32);
    expect(dqn.agentConfig.gamma).toBe(0.9);
    expect(resolveRunConfig({ game: 'catch', agent: 'a2c', recurrent: true }).agentConfig.lstmUnits).toBe(128);
    expect(resolveRunConfig({ game: 'catch', recurrent: true, file: { lstmUnits: 16 } }).agentConfig.lstmUnits).toBe(16);
  });

  it("memory-maze's recurrent PPO rollout spans the 100-step time limit and keeps the LSTM's forget-gate bias (seeds 3-4 learned nothing with 32 steps)", () => {
    const c = resolveRunConfig({ game: 'memory-maze', agent: 'ppo', recurrent: true });
    const agent = c.agentConfig as { numSteps: number; minibatches: number; init: string };
    // BPTT must reach the step-0 cue from the arm choice: an episode cut by the rollout boundary loses that path.
    expect(agent.numSteps).toBeGreaterThanOrEqual(100);
    expect(agent.init).toBe('glorot');
    // A corridor wall bump must cost more than the entropy bonus (gamma 0.99: 1% of the value; 0.9: 10%).
    expect((c.agentConfig as { gamma: number }).gamma).toBe(0.9);
    expect(c.run.steps).toBe(120_000);
    // 16 envs: twice the episodes behind each arm-choice gradient (seed 0 stalled with 8).
    expect(c.run.envs).toBe(16);
    // Whole-env minibatches: 8 envs over 4 minibatches, 2 sequences each.
    expect(agent.minibatches).toBe(4);
  });
});
