import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../games/index.js';
import { listEnvs, register } from '../../src/envs/registry.js';
import { Box, Discrete, type Space } from '../../src/envs/spaces.js';
import type { Env, RgbFrame } from '../../src/envs/env.js';
import { listAgents } from '../../src/agents/registry.js';
import { CONFIG_FILE_MAX_BYTES, DEFAULT_RUN_SETTINGS, readProjectFile, resolveRunConfig } from '../../src/train/run-config.js';
import { TRAIN_RUN_KEYS } from '../../src/envs/train-defaults.js';
import { UNDECLARED_STEPS } from '../../src/train/game-defaults.js';
import { InvalidConfigError } from '../../src/errors.js';
import { DQN_PRESETS } from '../../src/agents/dqn/config.js';
import { runCli } from '../helpers/run-cli.js';
import { train } from '../../src/train/runner.js';

/** Resolved run configs of every bundled game x agent x --recurrent, generated from the code before the train blocks moved into the games. */
const BEFORE = JSON.parse(readFileSync(new URL('./fixtures/train-defaults-before.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('training defaults declared by the games', () => {
  it('resolve to the same run config as the per-game tables they replaced, for every bundled game, agent and --recurrent', () => {
    const now: Record<string, unknown> = {};
    for (const { id } of listEnvs()) {
      for (const agent of [undefined, ...listAgents()]) {
        for (const recurrent of [false, true]) {
          const key = `${id} ${agent ?? '(default)'}${recurrent ? ' --recurrent' : ''}`;
          if (!(key in BEFORE)) continue;
          try {
            now[key] = JSON.parse(JSON.stringify(resolveRunConfig({ game: id, agent, recurrent, memoryLimitBytes: 2 ** 50 })));
          } catch (err) {
            now[key] = { error: (err as Error).constructor.name };
          }
        }
      }
    }
    // Every game of the fixture is still bundled, and each combination resolves as before (or fails as
    // before), except the changes made on purpose since, listed here with what they change.
    const changed: Record<string, (before: Record<string, unknown>) => Record<string, unknown>> = {
      // beacon's DQN variant names network 'auto': the MinAtar preset's CNN over the flat Dict observation refused to build.
      'beacon dqn': (b) => ({ ...b, agentConfig: { ...(b.agentConfig as object), network: 'auto' } }),
      'beacon dqn --recurrent': (b) => ({ ...b, agentConfig: { ...(b.agentConfig as object), network: 'auto' } }),
      // memory-maze's recurrent PPO: 128-step rollouts, 4 minibatches, gamma 0.9, the Keras LSTM init, 16 envs, 120k steps (seeds 3 and 4 never learned).
      'memory-maze ppo --recurrent': (b) => ({ ...b, run: { ...(b.run as object), steps: 120_000, envs: 16 }, agentConfig: { ...(b.agentConfig as object), numSteps: 128, minibatches: 4, gamma: 0.9, init: 'glorot', annealSteps: 120_000 } }),
    };
    // MinAtar (issue 17): DQN's default budget 5M -> 1M frames (the paper's run is --steps 5000000);
    // PPO the tuned `minatar` preset over 64 envs for 10M frames (docs/results.md).
    for (const game of ['asterix', 'breakout', 'freeway', 'seaquest', 'space_invaders']) {
      for (const r of ['', ' --recurrent']) {
        for (const a of ['(default)', 'dqn']) changed[`minatar/${game} ${a}${r}`] = (b) => ({ ...b, run: { ...(b.run as object), steps: 1_000_000 } });
        changed[`minatar/${game} ppo${r}`] = (b) => ({
          ...b,
          preset: 'minatar',
          run: { ...(b.run as object), steps: 10_000_000, envs: 64, evalEvery: 500_000, evalEpisodes: 30, checkpointEvery: 500_000 },
          agentConfig: { ...(b.agentConfig as object), lr: 1e-3, annealLr: false, gamma: 0.999, minibatches: 8, annealSteps: 10_000_000 },
        });
      }
    }
    // pong (bench/JOURNAL.md, "Pong vs the bot", "Pong: DQN on the state", "Pong: A2C on the
    // state"): the default is PPO on the state vector; the DQN and A2C variants read the state too
    // (DQN over the classic preset). snake ("Snake"): the default is PPO with the minatar preset.
    const merge = (b: Record<string, unknown>, run: Record<string, unknown>, agentConfig: Record<string, unknown>, top: Record<string, unknown> = {}) => ({ ...b, ...top, run: { ...(b.run as object), ...run }, agentConfig: { ...(b.agentConfig as object), ...agentConfig } });
    const pongPpo = (b: Record<string, unknown>) => merge(b, { steps: 2_000_000, envs: 16, evalEvery: 250_000, evalEpisodes: 20, logEvery: 10_000, checkpointEvery: 250_000, envOptions: { obsType: 'state' } }, { lr: 5e-4, annealSteps: 2_000_000 });
    const snakePpo = (b: Record<string, unknown>) => merge(b, { steps: 3_000_000, envs: 64, evalEvery: 250_000, evalEpisodes: 20, logEvery: 25_000, checkpointEvery: 250_000 }, { lr: 1e-3, annealLr: false, gamma: 0.999, minibatches: 8, annealSteps: 3_000_000 }, { preset: 'minatar' });
    for (const r of ['', ' --recurrent']) {
      const before = (key: string) => BEFORE[key] as Record<string, unknown>;
      changed[`pong ppo${r}`] = pongPpo;
      changed[`pong (default)${r}`] = () => pongPpo(before(`pong ppo${r}`));
      changed[`pong dqn${r}`] = (b) => ({
        ...merge(b, { steps: 300_000, evalEvery: 25_000, evalEpisodes: 20, logEvery: 5_000, checkpointEvery: 50_000, envOptions: { obsType: 'state' } }, {}, { preset: 'classic' }),
        agentConfig: {
          ...DQN_PRESETS.classic,
          network: 'auto',
          bufferSize: 1_000_000,
          targetTau: 0.005,
          nStep: r ? 1 : 3,
          optimizer: { kind: 'adam', learningRate: 2.5e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
          lstmUnits: r ? 128 : 0,
        },
      });
      changed[`pong a2c${r}`] = (b) => merge(b, { steps: 3_000_000, envs: 16, evalEvery: 250_000, evalEpisodes: 20, logEvery: 25_000, checkpointEvery: 250_000, envOptions: { obsType: 'state' } }, { numSteps: 32, lr: 2e-3, annealLr: true, annealSteps: 3_000_000 });
      changed[`snake ppo${r}`] = snakePpo;
      changed[`snake (default)${r}`] = () => snakePpo(before(`snake ppo${r}`));
    }
    // Every policy-gradient config gained `init` (CleanRL's orthogonal initialisation by default).
    const withInit = (b: Record<string, unknown>): Record<string, unknown> => {
      const cfg = b.agentConfig as Record<string, unknown> | undefined;
      return cfg && ['ppo', 'a2c', 'reinforce'].includes(cfg.algorithm as string) ? { ...b, agentConfig: { init: 'orthogonal', ...cfg } } : b;
    };
    expect(Object.keys(now).sort()).toEqual(Object.keys(BEFORE).sort());
    for (const key of Object.keys(BEFORE)) expect(now[key], key).toEqual(withInit(changed[key] ? changed[key](BEFORE[key] as Record<string, unknown>) : (BEFORE[key] as Record<string, unknown>)));
  });
});

/** A tiny game that declares no training defaults: walk right along 8 cells. */
class Corridor implements Env<Float32Array, unknown> {
  readonly observationSpace = new Box({ shape: [2], low: 0, high: 1, dtype: 'float32' });
  readonly spec = { id: 'test/corridor', actionNames: ['left', 'right'] };
  private pos = 0;
  constructor(readonly actionSpace: Space<unknown> = new Discrete(2)) {}
  private obs(): Float32Array {
    return new Float32Array([this.pos / 7, 1]);
  }
  reset(): { obs: Float32Array; info: Record<string, unknown> } {
    this.pos = 0;
    return { obs: this.obs(), info: {} };
  }
  step(a: unknown): { obs: Float32Array; reward: number; terminated: boolean; truncated: boolean; info: Record<string, unknown> } {
    this.pos = Math.max(0, Math.min(7, this.pos + (a === 1 ? 1 : -1)));
    return { obs: this.obs(), reward: this.pos === 7 ? 1 : 0, terminated: this.pos === 7, truncated: false, info: {} };
  }
  render(): RgbFrame {
    return { width: 1, height: 1, data: new Uint8Array(3) };
  }
  close(): void {}
}
register('test/corridor', () => new Corridor(), { maxEpisodeSteps: 50 });
register('test/corridor-box', () => new Corridor(new Box({ shape: [1], low: -1, high: 1, dtype: 'float32' })), { maxEpisodeSteps: 50 });

const BIG = 2 ** 50;

describe('a game that declares no training defaults', () => {
  it('trains PPO for 50k steps on 8 envs, and says which and why in one line', () => {
    const lines: string[] = [];
    const c = resolveRunConfig({ game: 'test/corridor', memoryLimitBytes: BIG, note: (l) => lines.push(l) });
    expect([c.agent, c.preset, c.run.steps, c.run.envs, c.run.evalEvery, c.run.evalEpisodes]).toEqual(['ppo', 'default', UNDECLARED_STEPS, 8, 10_000, 20]);
    expect(UNDECLARED_STEPS).toBe(50_000);
    expect(lines).toEqual(['npcforge: test/corridor declares no training defaults; training ppo (preset default) for 50000 steps on 8 envs: ppo handles its Discrete actions and any observation, with a budget of minutes (declare train in its register() call or in npcforge.config.json)']);
    const box = resolveRunConfig({ game: 'test/corridor-box', memoryLimitBytes: BIG, note: (l) => lines.push(l) });
    expect([box.agent, box.run.steps]).toEqual(['ppo', 50_000]);
    expect(lines[1]).toContain('ppo handles its Box actions');
  });

  it('learns a small undeclared game within its budget (seeded)', async () => {
    const config = resolveRunConfig({ game: 'test/corridor', memoryLimitBytes: BIG });
    const r = await train({ config, outDir: mkdtempSync(join(tmpdir(), 'npcforge-undeclared-')), progress: null, recordEvalEpisodes: 0 });
    expect(r.step).toBe(50_000);
    // Every greedy evaluation episode walks straight to the goal: 7 steps right.
    expect(r.lastEval).toMatchObject({ mean_return: 1, mean_length: 7 });
  });

  it('keeps the budget of minutes for an agent asked for with --agent', () => {
    const lines: string[] = [];
    const c = resolveRunConfig({ game: 'test/corridor', agent: 'dqn', memoryLimitBytes: BIG, note: (l) => lines.push(l) });
    expect([c.agent, c.preset, c.run.steps, c.agentConfig.network]).toEqual(['dqn', 'classic', 50_000, 'auto']);
    expect(lines[0]).toMatch(/training dqn \(preset classic\) for 50000 steps on 8 envs: the agent asked for/);
  });

  it('prints nothing for a game that declares its defaults', () => {
    const lines: string[] = [];
    resolveRunConfig({ game: 'catch', memoryLimitBytes: BIG, note: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });
});

describe('bad train blocks', () => {
  it('a train block may set every runner setting but steps and envs (fields of their own) and seed (the user\'s)', () => {
    expect([...TRAIN_RUN_KEYS].sort()).toEqual(Object.keys(DEFAULT_RUN_SETTINGS).filter((k) => !['steps', 'envs', 'seed'].includes(k)).sort());
  });

  const bad = (train: unknown): string => {
    try {
      register('test/bad-train', () => new Corridor(), { train: train as never });
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidConfigError);
      return (err as Error).message;
    }
    throw new Error('register accepted the block');
  };

  it('are refused at register() in one line naming the game and the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ steps: 1000 }, "train.agent = undefined (want an agent name such as 'ppo' or 'dqn')"],
      [{ agent: 'ppo', steps: -5 }, 'train.steps = -5 (want an integer >= 1)'],
      [{ agent: 'ppo', envs: 0.5 }, 'train.envs = 0.5 (want an integer in [1, 4096])'],
      [{ agent: 'ppo', stepz: 10 }, 'train.stepz is not a train field'],
      [{ agent: 'ppo', config: [1] }, 'train.config = array(1) (want an object of agent hyperparameters)'],
      [{ agent: 'ppo', run: { steps: 5 } }, 'train.run.steps is not a runner setting'],
      [{ agent: 'ppo', run: { evalEvry: 5 } }, 'train.run.evalEvry is not a runner setting'],
      [{ agent: 'ppo', recurrent: { recurrent: {} } }, 'train.recurrent.recurrent is not a train field'],
      [{ agent: 'ppo', agents: { sac: { preset: 3 } } }, 'train.agents.sac.preset = 3 (want a preset name)'],
      [{ agent: 'ppo', agents: { 'Bad Name': {} } }, 'train.agents has key "Bad Name" (want an agent name)'],
      [{ agent: 'ppo', agents: { ppo: { steps: 5 } } }, 'train.agents.ppo repeats the default agent (put its settings at the top level of train)'],
      ['ppo', 'train = "ppo" (want an object'],
    ];
    for (const [train, field] of cases) {
      const msg = bad(train);
      expect(msg.startsWith('[register test/bad-train] expected a valid train block, received '), msg).toBe(true);
      expect(msg).toContain(field);
      expect(msg).not.toContain('\n');
    }
    // Every bad field at once.
    expect(bad({ agent: 'ppo', steps: 0, envs: 0 })).toMatch(/train\.steps = 0 .*; train\.envs = 0 /);
  });

  it('an unknown agent or preset in a block is named with the game when a run is resolved', () => {
    register('test/bad-agent', () => new Corridor(), { train: { agent: 'ppx' } });
    expect(() => resolveRunConfig({ game: 'test/bad-agent', memoryLimitBytes: BIG })).toThrow(/^\[train test\/bad-agent\] expected a known agent in the game's train\.agent \(a2c, dqn, ppo, reinforce, sac\), received "ppx"; fix: /);
    register('test/bad-preset', () => new Corridor(), { train: { agent: 'ppo', preset: 'fast' } });
    expect(() => resolveRunConfig({ game: 'test/bad-preset', memoryLimitBytes: BIG })).toThrow(/^\[train test\/bad-preset\] expected one of default, .* as the preset in the game's train block for ppo, received "fast"; fix: /);
    // --preset still names itself.
    expect(() => resolveRunConfig({ game: 'catch', preset: 'fast', memoryLimitBytes: BIG })).toThrow(/^\[preset\] expected one of/);
  });

  it('values inside config are checked with the agent when a run is resolved', () => {
    register('test/bad-lr', () => new Corridor(), { train: { agent: 'ppo', config: { lr: -1 } } });
    expect(() => resolveRunConfig({ game: 'test/bad-lr', memoryLimitBytes: BIG })).toThrow(/\[train config\] .*lr=-1/);
  });
});

describe('the project file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npcforge-project-'));
  const write = (name: string, value: unknown): string => {
    const p = join(dir, name);
    writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
    return p;
  };

  it('overrides fields of a game\'s train block; config and run merge key by key', () => {
    const project = readProjectFile(write('a.json', { games: { catch: { steps: 8000, config: { batchSize: 64 }, run: { evalEpisodes: 10 } } } }));
    const lines: string[] = [];
    const c = resolveRunConfig({ game: 'catch', project, memoryLimitBytes: BIG, note: (l) => lines.push(l) });
    expect([c.agent, c.preset, c.run.steps, c.run.evalEvery, c.run.evalEpisodes]).toEqual(['dqn', 'classic', 8000, 2000, 10]);
    expect(c.agentConfig).toMatchObject({ batchSize: 64, learningStarts: 500, trainEvery: 2 });
    expect(lines).toEqual([`npcforge: catch: training defaults from ${project.path} over the game's own; training dqn (preset classic) for 8000 steps on 1 env`]);
    // Other games are untouched; the flags still win over the project file.
    expect(resolveRunConfig({ game: 'cartpole', project, memoryLimitBytes: BIG }).run.steps).toBe(50_000);
    expect(resolveRunConfig({ game: 'catch', project, flags: { steps: 300 }, memoryLimitBytes: BIG }).run.steps).toBe(300);
  });

  it('can switch the default agent, which then trains as the game declared for it', () => {
    const project = readProjectFile(write('b.json', { games: { catch: { agent: 'ppo', config: { lr: 5e-4 } }, 'test/corridor': { agent: 'a2c', steps: 1234 } } }));
    const c = resolveRunConfig({ game: 'catch', project, memoryLimitBytes: BIG });
    expect([c.agent, c.preset, c.run.steps, c.run.envs, c.agentConfig.lr, c.agentConfig.numSteps]).toEqual(['ppo', 'catch', 40_000, 8, 5e-4, 32]);
    // An undeclared game gets its whole block from the project file (agent's generic defaults under it).
    const u = resolveRunConfig({ game: 'test/corridor', project, memoryLimitBytes: BIG });
    expect([u.agent, u.preset, u.run.steps]).toEqual(['a2c', 'default', 1234]);
  });

  it('needs an agent for a game that declares none', () => {
    const project = readProjectFile(write('c.json', { games: { 'test/corridor': { steps: 1000 } } }));
    expect(() => resolveRunConfig({ game: 'test/corridor', project, memoryLimitBytes: BIG })).toThrow(/^\[--project\] expected an agent for test\/corridor .*fix: add "agent": "ppo"/);
  });

  it('is untrusted: unknown keys, bad fields, bad JSON and oversized files are one-line errors that never quote it', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ games: {}, gamez: 1 }, /"gamez" is not a project setting \(want games\)/],
      [{}, /games is missing/],
      [{ games: [] }, /games = array\(0\)/],
      [{ games: { catch: { stepz: 5 } } }, /games\."catch"\.stepz is not a train field/],
      [{ games: { catch: { agent: 'ppo', run: { stpes: 5 } } } }, /games\."catch"\.run\.stpes is not a runner setting/],
      [{ games: { catch: { steps: 'many' } } }, /games\."catch"\.steps = "many"/],
      ['{"games": {"catch": {"__proto__": {"steps": 1}}}}', /games\."catch"\.__proto__ is not a train field/],
      ['{"games": {"catch": {"steps": 5,}}} SECRET', /syntax error at line 1 column/],
      ['[1, 2]', /a JSON object of settings/],
      [' '.repeat(CONFIG_FILE_MAX_BYTES + 1), /at most 1048576 bytes/],
    ];
    cases.forEach(([value, re], i) => {
      const p = write(`bad${i}.json`, value);
      let msg = '';
      try {
        readProjectFile(p);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidConfigError);
        msg = (err as Error).message;
      }
      expect(msg, String(i)).toMatch(re);
      expect(msg.startsWith('[--project] expected')).toBe(true);
      expect(msg).not.toContain('\n');
      expect(msg).not.toContain('SECRET');
    });
    expect(() => readProjectFile(dir)).toThrow(/\[--project\] .*\(a folder\)/);
  });
});

describe('npcforge train with a project file', () => {
  it('reads ./npcforge.config.json, or the file given by --project, and says so', async () => {
    const work = mkdtempSync(join(tmpdir(), 'npcforge-project-cli-'));
    writeFileSync(join(work, 'npcforge.config.json'), JSON.stringify({ games: { catch: { steps: 200, run: { evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0 } } } }));
    writeFileSync(join(work, 'other.json'), JSON.stringify({ games: { catch: { steps: 120, run: { evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0 } } } }));
    writeFileSync(join(work, 'broken.json'), JSON.stringify({ games: { catch: { steps: 0 } } }));
    const cwd = process.cwd();
    process.chdir(work);
    try {
      const a = await runCli(['train', 'catch', '--out', 'runs', '--no-progress', '--json']);
      expect(a.code, a.err).toBe(0);
      expect(JSON.parse(a.out).step).toBe(200);
      expect(a.err).toContain('npcforge: catch: training defaults from npcforge.config.json');
      const b = await runCli(['train', 'catch', '--project', 'other.json', '--out', 'runs', '--no-progress', '--json']);
      expect(b.code, b.err).toBe(0);
      expect(JSON.parse(b.out).step).toBe(120);
      const c = await runCli(['train', 'catch', '--project', 'broken.json', '--out', 'runs', '--no-progress']);
      expect(c.code).not.toBe(0);
      expect(c.err).toMatch(/\[--project\] expected a valid project file, received "broken.json" with games\."catch"\.steps = 0 \(want an integer >= 1\)/);
    } finally {
      process.chdir(cwd);
    }
  });
});
