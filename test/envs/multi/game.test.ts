import { describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { InvalidActionError, InvalidConfigError, ResetNeededError, UnknownEnvError } from '../../../src/errors.js';
import { listMultiAgentEnvs, makeMultiAgent, registerMultiAgent } from '../../../src/envs/multi/registry.js';
import { make } from '../../../src/envs/registry.js';
import { RaceEnv } from '../../fixtures/race-game.js';

describe('MultiAgentGameEnv guards', () => {
  it('refuses step before the first reset and after every agent is done', () => {
    const env = new RaceEnv();
    expect(() => env.step({ hare: 1, tortoise: 1 })).toThrow(ResetNeededError);
    expect(() => env.step({ hare: 1, tortoise: 1 })).toThrow('[test/race.step] expected reset() before stepping, received step() before the first reset(); fix: call env.reset() when env.agents is empty');
    env.reset({ seed: 1 });
    for (let i = 0; i < 5; i++) env.step(Object.fromEntries(env.agents.map((a) => [a, 1])));
    expect(env.agents).toEqual([]);
    expect(() => env.step({ tortoise: 1 })).toThrow('received step() after every agent is done');
  });

  it('refuses unknown agents, agents that are done, missing agents and bad actions, naming them', () => {
    const env = new RaceEnv();
    env.reset({ seed: 1 });
    const expectRefused = (actions: Record<string, unknown>, text: string): void => {
      let err: unknown;
      try {
        env.step(actions as Record<string, number>);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidActionError);
      expect((err as Error).message).toMatch(/^\[test\/race\.step\] expected .+, received .+; fix: .+/);
      expect((err as Error).message).toContain(text);
    };
    expectRefused({ hare: 1, tortoise: 1, fox: 0 }, 'received actions for unknown agents "fox"');
    expectRefused({ hare: 1 }, 'expected an action for every live agent (hare, tortoise), received none for tortoise');
    expectRefused({ hare: 3, tortoise: 1 }, 'expected an action for hare in {"type":"Discrete","n":2,"start":0}, received 3');
    expectRefused([1, 1] as unknown as Record<string, unknown>, 'received array(2)');
    expect(env.played).toBe(0);
    env.step({ hare: 1, tortoise: 1 });
    env.step({ hare: 1, tortoise: 1 });
    // The hare finished: it left `agents`, and an action for it is refused.
    expect(env.agents).toEqual(['tortoise']);
    expectRefused({ hare: 1, tortoise: 1 }, 'expected actions for the live agents tortoise only, received actions for agents that are done: hare');
    expect(env.played).toBe(2);
  });

  it('returns dicts keyed by exactly the agents live before the step', () => {
    const env = new RaceEnv();
    const reset = env.reset({ seed: 3 });
    expect(Object.keys(reset.obs)).toEqual(['hare', 'tortoise']);
    env.step({ hare: 1, tortoise: 1 });
    const r = env.step({ hare: 1, tortoise: 1 });
    expect(r.terminated).toEqual({ hare: true, tortoise: false });
    expect(r.rewards).toEqual({ hare: 1, tortoise: 0 });
    const next = env.step({ tortoise: 0 });
    for (const k of ['obs', 'rewards', 'terminated', 'truncated', 'infos'] as const) expect(Object.keys(next[k])).toEqual(['tortoise']);
  });

  it('truncates every live agent at maxSteps and then needs a reset', () => {
    const env = new RaceEnv({ maxSteps: 3 });
    env.reset({ seed: 0 });
    env.step({ hare: 0, tortoise: 0 });
    env.step({ hare: 0, tortoise: 0 });
    const r = env.step({ hare: 1, tortoise: 0 });
    expect(r.truncated).toEqual({ hare: true, tortoise: true });
    expect(r.terminated).toEqual({ hare: false, tortoise: false });
    expect(env.agents).toEqual([]);
    expect(env.spec.maxEpisodeSteps).toBe(3);
  });

  it('reset({seed}) reseeds, reset() continues the stream, getState/setState restore agents and steps', () => {
    const env = new RaceEnv();
    const a = env.reset({ seed: 5 }).obs.hare![1];
    const b = env.reset().obs.hare![1];
    expect(env.reset({ seed: 5 }).obs.hare![1]).toBe(a);
    expect(b).not.toBe(a);
    env.step({ hare: 1, tortoise: 1 });
    env.step({ hare: 1, tortoise: 1 });
    const saved = JSON.parse(JSON.stringify(env.getState()));
    const after = env.step({ tortoise: 1 });
    const other = new RaceEnv();
    other.setState(saved);
    expect(other.agents).toEqual(['tortoise']);
    const again = other.step({ tortoise: 1 });
    expect(Array.from(again.obs.tortoise!)).toEqual(Array.from(after.obs.tortoise!));
    expect(() => other.setState({ game: { agents: ['fox'], steps: 0 } })).toThrow(/\[test\/race\.setState\] expected a snapshot/);
  });

  it('names the possible agents when asked for the spaces of another', () => {
    const env = new RaceEnv();
    expect(() => env.observationSpace('fox')).toThrow(InvalidConfigError);
    expect(() => env.actionSpace('fox')).toThrow("[test/race.actionSpace] expected one of the possible agents hare, tortoise, received \"fox\"; fix: pass a name from env.possibleAgents");
    expect(env.spec.actionNames).toEqual({ hare: ['wait', 'move'], tortoise: ['wait', 'move'] });
  });
});

describe('multi-agent registry', () => {
  it('lists pong and tag; makeMultiAgent builds them with their agents', () => {
    expect(listMultiAgentEnvs().map((e) => e.id)).toEqual(expect.arrayContaining(['pong', 'tag']));
    expect(makeMultiAgent('pong').possibleAgents).toEqual(['right', 'left']);
    expect(makeMultiAgent('tag', { size: 8 }).possibleAgents).toEqual(['chaser_0', 'chaser_1', 'evader']);
  });

  it('an unknown id lists the multi-agent ids; make() on a multi-agent-only id says where it is', () => {
    expect(() => makeMultiAgent('catch')).toThrow(UnknownEnvError);
    expect(() => makeMultiAgent('catch')).toThrow(/^\[makeMultiAgent\] expected a registered multi-agent id \(.*pong.*tag.*\), received "catch"/);
    expect(() => make('tag')).toThrow(/'tag' is a multi-agent game: build it with makeMultiAgent\('tag'\)/);
  });

  it('merges registered default options under the caller\'s and rejects bad ids', () => {
    registerMultiAgent('test/race-defaults', (o) => new RaceEnv(o as { maxSteps?: number }), { options: { maxSteps: 7 } });
    expect(makeMultiAgent('test/race-defaults').spec.maxEpisodeSteps).toBe(7);
    expect(makeMultiAgent('test/race-defaults', { maxSteps: 9 }).spec.maxEpisodeSteps).toBe(9);
    expect(() => registerMultiAgent('Bad Id', () => new RaceEnv())).toThrow(InvalidConfigError);
  });
});
