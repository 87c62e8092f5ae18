/**
 * Export round trip: a small DQN run on catch and one on minatar/breakout are exported; the bundle
 * loads with stock tf.loadLayersModel (over HTTP) and with loadPolicy (path and URL), and the
 * runtime's actions and Q-values equal the training agent's on recorded frames.
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { exportPolicy } from '../../src/export/export-policy.js';
import { DqnAgent } from '../../src/agents/dqn/dqn-agent.js';
import { loadPolicy } from '../../src/runtime/index.js';
import type { Policy } from '../../src/runtime/policy.js';
import type { ActResult, Agent } from '../../src/agents/agent.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { TANK_ACTIONS } from '../../games/tank/tank.js';
import { loadRunAgent, train } from '../../src/train/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-export-'));
const runs: Record<string, string> = {};

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const p = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]!));
    if (!existsSync(p)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200);
    createReadStream(p).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Frames of a few episodes played by the agent with exploration, so states vary. */
function recordFrames(game: string, options: Record<string, unknown>, agentAct: (o: ObsArray) => Promise<number>, n: number): Promise<ObsArray[]> {
  return (async () => {
    const env = make(game, options) as Env<ObsArray, number>;
    const rng = new SeededRng(7);
    const frames: ObsArray[] = [];
    let { obs } = env.reset({ seed: 11 });
    while (frames.length < n) {
      frames.push(obs);
      const a = rng.random() < 0.3 ? rng.int(0, 3) : await agentAct(obs);
      const r = env.step(a);
      obs = r.obs;
      if (r.terminated || r.truncated) obs = env.reset().obs;
    }
    env.close();
    return frames;
  })();
}

beforeAll(async () => {
  const small = { learningStarts: 100, batchSize: 16, bufferSize: 2000, targetUpdateEvery: 50, epsilonDecaySteps: 200, evalEvery: 0, evalEpisodes: 3, checkpointEvery: 0, logEvery: 100 };
  for (const game of ['catch', 'minatar/breakout']) {
    const config = resolveRunConfig({ game, flags: { ...small, steps: game === 'catch' ? 400 : 300, seed: 2 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    runs[game] = res.runDir;
  }
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npcforge export', () => {
  it('writes policy.json, model.json and weights.bin that stock tf.loadLayersModel reads', async () => {
    const out = join(tmp, 'catch-policy');
    const r = await exportPolicy({ runDir: runs.catch!, outDir: out });
    const p = JSON.parse(readFileSync(join(out, 'policy.json'), 'utf8'));
    expect(p.format).toBe('npcforge-policy');
    expect(p.version).toBe(1);
    expect(p.game.id).toBe('catch');
    expect(p.agent).toBe('dqn');
    expect(p.output).toBe('q');
    expect(p.actions).toEqual(make('catch').spec.actionNames);
    expect(p.recurrentState).toBeNull();
    expect(p.training.checkpoint).toBe(400);
    expect(typeof p.evalReturn).toBe('number');
    expect(r.weightBytes).toBe(readFileSync(join(out, 'weights.bin')).byteLength);
    const { server, url } = await serve(out);
    try {
      const model = await tf.loadLayersModel(url + 'model.json');
      expect(model.outputs[0]!.shape).toEqual([null, p.actions.length]);
      model.dispose();
      const viaUrl = await loadPolicy(url, { game: 'catch' });
      expect(viaUrl.file.game.id).toBe('catch');
      viaUrl.dispose();
    } finally {
      server.close();
    }
  });

  for (const game of ['catch', 'minatar/breakout']) {
    it(`parity on ${game}: runtime actions and Q-values equal the training agent's`, async () => {
      const out = join(tmp, game.replace('/', '-') + '-parity');
      await exportPolicy({ runDir: runs[game]!, outDir: out });
      const { agent, run } = await loadRunAgent(runs[game]!);
      const dqn = agent as DqnAgent;
      const policy = await loadPolicy(out, { game });
      try {
        const frames = await recordFrames(game, run.run.envOptions, async (o) => (await dqn.act(o, { numEnvs: 1, mode: 'eval' })).actions[0]!, 60);
        let maxDiff = 0;
        for (const f of frames) {
          const q = await dqn.qValues(f, 1);
          const a = (await dqn.act(f, { numEnvs: 1, mode: 'eval' })).actions[0]!;
          const r = await policy.act(f);
          expect(r.action).toBe(a);
          expect(r.actionName).toBe(policy.file.actions[a]);
          for (let i = 0; i < q.length; i++) maxDiff = Math.max(maxDiff, Math.abs(q[i]! - r.q![i]!));
        }
        expect(maxDiff).toBeLessThan(1e-5);
      } finally {
        policy.dispose();
        agent.dispose();
      }
    });
  }

  it('exports a chosen checkpoint and rejects an unknown one', async () => {
    await expect(exportPolicy({ runDir: runs.catch!, checkpoint: 123, outDir: join(tmp, 'x') })).rejects.toThrow(/checkpoint\] expected one of \[400\]/);
  });
});

/**
 * Plays 3 catch episodes (reset seeds from `seed0`) with the training agent's greedy actions (30%
 * random steps), the agent's recurrent state carried and the runtime policy stepped alongside:
 * asserts equal actions each step; returns the steps compared and the largest difference
 * between the agent's and the policy's per-action outputs.
 */
async function statefulParity(
  agent: Agent,
  policy: Policy,
  seed0: number,
  agentOut: (info: ActResult['info']) => Float32Array,
  policyOut: (p: Awaited<ReturnType<Policy['act']>>) => ArrayLike<number>,
): Promise<{ compared: number; maxDiff: number }> {
  const env = make('catch') as Env<ObsArray, number>;
  const rng = new SeededRng(3);
  let maxDiff = 0;
  let compared = 0;
  for (let ep = 0; ep < 3; ep++) {
    let obs = env.reset({ seed: seed0 + ep }).obs;
    policy.reset();
    let state: unknown = undefined;
    for (let t = 0; t < 40; t++) {
      const a = await agent.act(obs, { numEnvs: 1, mode: 'eval', withValues: true }, state);
      state = a.state;
      const p = await policy.act(obs);
      expect(p.action).toBe(a.actions[0]);
      const x = agentOut(a.info);
      const y = policyOut(p);
      for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - y[i]!));
      compared++;
      const step = env.step(rng.random() < 0.3 ? rng.int(0, 3) : a.actions[0]!);
      if (step.terminated || step.truncated) break;
      obs = step.obs;
    }
  }
  return { compared, maxDiff };
}

describe('npcforge export: recurrent DQN runs', () => {
  it('parity for dqn --recurrent on catch: actions and Q-values with the state carried', async () => {
    const file = { network: { kind: 'mlp', hidden: [16] }, lstmUnits: 16, seqLength: 4, burnIn: 2, learningStarts: 64, batchSize: 8, trainEvery: 4 };
    const config = resolveRunConfig({ game: 'catch', file, flags: { steps: 300, seed: 4, evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0, logEvery: 100 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, 'drqn');
    const r = await exportPolicy({ runDir: res.runDir, outDir: out });
    expect(r.policy.output).toBe('q');
    expect(r.policy.recurrentState).toEqual({ shapes: [[16], [16]] });
    const { agent } = await loadRunAgent(res.runDir);
    const policy = await loadPolicy(out, { game: 'catch' });
    try {
      const { compared, maxDiff } = await statefulParity(agent, policy, 200, (info) => info.values!, (p) => p.q!);
      expect(compared).toBeGreaterThan(20);
      expect(maxDiff).toBeLessThan(1e-5);
    } finally {
      policy.dispose();
      agent.dispose();
    }
  });
});

describe('npcforge export: policy-gradient runs', () => {
  for (const [lstmUnits, normObs] of [[0, false], [16, false], [0, true]] as const) {
    it(`parity for ppo on catch ${lstmUnits ? 'with an LSTM' : 'feed-forward'}${normObs ? ' with normObs' : ''}: actions and probabilities (state carried)`, async () => {
      const config = resolveRunConfig({ game: 'catch', agent: 'ppo', file: { lstmUnits, normObs }, flags: { steps: 300, seed: 4, evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0, logEvery: 100 } });
      const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
      const out = join(tmp, `ppo-${lstmUnits}-${normObs}`);
      const r = await exportPolicy({ runDir: res.runDir, outDir: out });
      expect(r.policy.output).toBe('logits');
      // The normalisation statistics travel in the bundle (version 2); without them the runtime feeds raw frames.
      expect(r.policy.version).toBe(normObs ? 2 : 1);
      expect(r.policy.inputNorm?.mean.length ?? 0).toBe(normObs ? 50 : 0);
      expect(r.policy.recurrentState).toEqual(lstmUnits ? { shapes: [[16], [16]] } : null);
      const { agent } = await loadRunAgent(res.runDir);
      const policy = await loadPolicy(out, { game: 'catch' });
      try {
        const { compared, maxDiff } = await statefulParity(agent, policy, 100, (info) => info.probs!, (p) => p.probs!);
        expect(compared).toBeGreaterThan(20);
        expect(maxDiff).toBeLessThan(1e-5);
      } finally {
        policy.dispose();
        agent.dispose();
      }
    });
  }
});

/**
 * Plays `steps` steps of `game` (episodes reset with seeds from 500) with the training agent's
 * greedy actions (30% random steps so states vary) and the runtime policy stepped alongside;
 * `compare` checks each pair of actions.
 */
async function actionParity(game: string, options: Record<string, unknown>, agent: Agent, policy: Policy, steps: number, compare: (agentAction: ArrayLike<number>, p: Awaited<ReturnType<Policy['act']>>) => void): Promise<void> {
  const env = make(game, options) as Env<ObsArray, unknown>;
  const rng = new SeededRng(3);
  let ep = 0;
  let obs = env.reset({ seed: 500 }).obs;
  policy.reset();
  let state: unknown = undefined;
  for (let t = 0; t < steps; t++) {
    const a = await agent.act(obs, { numEnvs: 1, mode: 'eval' }, state);
    state = a.state;
    const p = await policy.act(obs);
    compare(a.actions as ArrayLike<number>, p);
    const step = env.step(rng.random() < 0.3 ? env.actionSpace.sample(rng) : a.actions);
    obs = step.obs;
    if (step.terminated || step.truncated) {
      obs = env.reset({ seed: 500 + ++ep }).obs;
      policy.reset();
      state = undefined;
    }
  }
  env.close();
}

describe('npcforge export: MultiDiscrete and Box heads', () => {
  const flags = { steps: 64, envs: 1, seed: 1, evalEvery: 0, evalEpisodes: 1, checkpointEvery: 0, logEvery: 32 };

  for (const lstmUnits of [0, 16]) {
  it(`parity for ppo on tank (MultiDiscrete${lstmUnits ? ', LSTM' : ''}): one index and one name per part, identical to the agent over 100 steps`, async () => {
    const config = resolveRunConfig({ game: 'tank', agent: 'ppo', flags, file: { numSteps: 32, lstmUnits } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, `tank-bundle-${lstmUnits}`);
    const r = await exportPolicy({ runDir: res.runDir, outDir: out });
    expect(r.policy.version).toBe(2);
    expect(r.policy.output).toBe('logits');
    expect(r.policy.recurrentState).toEqual(lstmUnits ? { shapes: [[16], [16]] } : null);
    expect(r.policy.action).toEqual({ type: 'MultiDiscrete', nvec: [5, 3, 2], names: [TANK_ACTIONS.slice(0, 5), TANK_ACTIONS.slice(5, 8), TANK_ACTIONS.slice(8)] });
    const { agent, run } = await loadRunAgent(res.runDir);
    const policy = await loadPolicy(out, { game: 'tank' });
    try {
      const seen = new Set<string>();
      await actionParity('tank', run.run.envOptions, agent, policy, 100, (a, p) => {
        expect(p.action).toBeInstanceOf(Int32Array);
        expect(Array.from(p.action as Int32Array)).toEqual(Array.from(a));
        expect(p.actionName).toEqual(Array.from(a, (k, part) => policy.file.action!.type === 'MultiDiscrete' ? (policy.file.action as { names: string[][] }).names[part]![k] : ''));
        expect(p.probs!.length).toBe(10);
        seen.add(Array.from(a).join(','));
      });
      // The comparison is only worth something if the states gave different actions.
      expect(seen.size).toBeGreaterThan(1);
    } finally {
      policy.dispose();
      agent.dispose();
    }
  });
  }

  it('parity for ppo on pendulum (Box, normObs): the runtime returns the clipped mean within 1e-5 of the agent over 100 steps', async () => {
    const config = resolveRunConfig({ game: 'pendulum', agent: 'ppo', flags, file: { numSteps: 32, minibatches: 2, epochs: 2 } });
    expect(config.agentConfig).toMatchObject({ normObs: true });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, 'pendulum-bundle');
    const r = await exportPolicy({ runDir: res.runDir, outDir: out });
    expect(r.policy.output).toBe('mean');
    expect(r.policy.action).toEqual({ type: 'Box', shape: [1], low: [-2], high: [2] });
    expect(r.policy.inputNorm?.mean).toHaveLength(3);
    const { agent, run } = await loadRunAgent(res.runDir);
    const policy = await loadPolicy(out, { game: 'pendulum' });
    try {
      let maxDiff = 0;
      await actionParity('pendulum', run.run.envOptions, agent, policy, 100, (a, p) => {
        expect(p.action).toBeInstanceOf(Float32Array);
        expect(p.actionName).toBeNull();
        const x = p.action as Float32Array;
        expect(x[0]!).toBeGreaterThanOrEqual(-2);
        expect(x[0]!).toBeLessThanOrEqual(2);
        maxDiff = Math.max(maxDiff, Math.abs(x[0]! - a[0]!));
      });
      expect(maxDiff).toBeLessThan(1e-5);
      await expect(policy.act(new Float32Array(3), { greedy: false, rng: new SeededRng(1) })).rejects.toThrow(/\[policy\.act\] expected greedy acting for a Box/);
    } finally {
      policy.dispose();
      agent.dispose();
    }
  });

  it('parity for sac on pendulum (Box): the runtime returns tanh(mean) scaled to the bounds within 1e-5 of the agent over 100 steps', async () => {
    const config = resolveRunConfig({ game: 'pendulum', agent: 'sac', flags, file: { learningStarts: 32, batchSize: 8 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const out = join(tmp, 'sac-bundle');
    const r = await exportPolicy({ runDir: res.runDir, outDir: out });
    expect(r.policy.output).toBe('squashed-mean');
    expect(r.policy.action).toEqual({ type: 'Box', shape: [1], low: [-2], high: [2] });
    const { agent, run } = await loadRunAgent(res.runDir);
    const policy = await loadPolicy(out, { game: 'pendulum' });
    try {
      let maxDiff = 0;
      const seen = new Set<number>();
      await actionParity('pendulum', run.run.envOptions, agent, policy, 100, (a, p) => {
        expect(p.action).toBeInstanceOf(Float32Array);
        const x = (p.action as Float32Array)[0]!;
        maxDiff = Math.max(maxDiff, Math.abs(x - a[0]!));
        seen.add(Math.round(x * 1e4));
      });
      expect(maxDiff).toBeLessThan(1e-5);
      expect(seen.size).toBeGreaterThan(10);
    } finally {
      policy.dispose();
      agent.dispose();
    }
  });
});
