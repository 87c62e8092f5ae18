import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { checkEnv } from '../../../src/envs/check-env.js';
import { InvalidActionError, InvalidConfigError, ResetNeededError } from '../../../src/errors.js';
import { canRender, type ResetArgs } from '../../../src/envs/env.js';
import type { AgentDict, MultiAgentStepResult } from '../../../src/envs/multi/multi-agent-env.js';
import { makeMultiAgent } from '../../../src/envs/multi/registry.js';
import { asSingleAgent, randomPolicy, type PolicyContext } from '../../../src/envs/multi/single-agent.js';
import { RaceEnv } from '../../fixtures/race-game.js';
import { make, register } from '../../../src/envs/registry.js';
import { SeededRng } from '../../../src/envs/rng.js';
import type { Discrete } from '../../../src/envs/spaces.js';
import { recordPolicyEpisode } from '../../../src/replay/episodes/record-policy.js';
import { readEpisodeFile } from '../../../src/replay/episodes/read-file.js';
import { verifyEpisode } from '../../../src/replay/episodes/verify.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-single-agent-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RaceEnv that keeps every result it hands out, to compare with what the policies saw. */
class RecordingRace extends RaceEnv {
  readonly handedOut: Array<AgentDict<Float32Array>> = [];
  override reset(args?: ResetArgs) {
    const r = super.reset(args);
    this.handedOut.push(r.obs);
    return r;
  }
  override step(actions: AgentDict<number>): MultiAgentStepResult<Float32Array> {
    const r = super.step(actions);
    this.handedOut.push(r.obs);
    return r;
  }
}

describe('asSingleAgent', () => {
  it('ends the episode when the controlled agent is done, although the others play on', () => {
    const env = asSingleAgent(new RaceEnv(), { agent: 'hare', others: { tortoise: () => 1 } });
    env.reset({ seed: 0 });
    expect(env.step(1)).toMatchObject({ reward: 0, terminated: false, truncated: false });
    expect(env.step(1)).toMatchObject({ reward: 1, terminated: true, truncated: false });
    expect(env.multi.agents).toEqual(['tortoise']);
    expect(() => env.step(1)).toThrow(ResetNeededError);
    expect(() => env.step(1)).toThrow("[test/race.step] expected reset() before stepping, received step() after hare's episode ended (or before the first reset()); fix: call env.reset() when terminated or truncated is true");
  });

  it('returns the controlled agent\'s rewards and stops asking an agent that is done', () => {
    const calls: string[] = [];
    const env = asSingleAgent(new RaceEnv(), { agent: 'tortoise', others: { hare: (_obs, ctx) => (calls.push(ctx.agent), 1) } });
    env.reset({ seed: 0 });
    const rewards: number[] = [];
    for (let done = false; !done; ) {
      const r = env.step(1);
      rewards.push(r.reward);
      done = r.terminated || r.truncated;
    }
    // The tortoise finishes at cell 5; the hare left after its 2nd step and was not asked again.
    expect(rewards).toEqual([0, 0, 0, 0, 1]);
    expect(calls).toEqual(['hare', 'hare']);
  });

  it('hands each other seat its own latest observation, and says when an episode starts', () => {
    const race = new RecordingRace();
    const seen: Array<{ obs: number[]; start: boolean }> = [];
    const env = asSingleAgent(race, { agent: 'tortoise', others: { hare: (obs, ctx: PolicyContext) => (seen.push({ obs: Array.from(obs), start: ctx.episodeStart }), 1) } });
    env.reset({ seed: 4 });
    env.step(0);
    env.step(0);
    expect(seen.map((s) => s.obs)).toEqual([Array.from(race.handedOut[0]!.hare!), Array.from(race.handedOut[1]!.hare!)]);
    expect(seen.map((s) => s.start)).toEqual([true, false]);
    // The hare's observation differs from the tortoise's (its own cell), so the seat is right.
    expect(seen[1]!.obs[0]).toBeCloseTo(0.1);
    expect(Array.from(race.handedOut[1]!.tortoise!)[0]).toBe(0);
  });

  it('is an Env that passes checkEnv with random other seats (their draws follow the seed)', () => {
    for (const [id, agent] of [
      ['tag', 'chaser_0'],
      ['tag', 'evader'],
      ['pong', 'left'],
    ] as const) {
      const make = () => {
        const multi = makeMultiAgent(id);
        const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== agent).map((a) => [a, randomPolicy(multi.actionSpace(a))]));
        return asSingleAgent(multi, { agent, others });
      };
      expect(() => checkEnv(make, { steps: 250 })).not.toThrow();
      expect(make().spec).toMatchObject({ id, actionNames: makeMultiAgent(id).spec.actionNames[agent] });
    }
  });

  it('reseeds the other seats\' random policies with reset({seed}) and restores them with setState', () => {
    const make = () => asSingleAgent(makeMultiAgent('tag'), { agent: 'evader', others: { chaser_0: randomPolicy(makeMultiAgent('tag').actionSpace('chaser_0')), chaser_1: randomPolicy(makeMultiAgent('tag').actionSpace('chaser_1')) } });
    const play = (env: ReturnType<typeof make>, n: number): string[] => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = env.step(0);
        out.push(Array.from(r.obs).join(''));
        if (r.terminated || r.truncated) break;
      }
      return out;
    };
    const a = make();
    a.reset({ seed: 11 });
    const first = play(a, 20);
    a.reset({ seed: 11 });
    expect(play(a, 20)).toEqual(first);
    a.reset({ seed: 12 });
    play(a, 3);
    const saved = JSON.parse(JSON.stringify(a.getState!()));
    const rest = play(a, 10);
    const b = make();
    b.setState!(saved);
    expect(play(b, 10)).toEqual(rest);
  });

  it('has render and getState/setState only when the game has them, and refuses a snapshot that is not its own', () => {
    class StatelessRace extends RaceEnv {}
    const stateless = new StatelessRace();
    Object.defineProperty(stateless, 'getState', { value: undefined });
    const bare = asSingleAgent(stateless, { agent: 'hare', others: { tortoise: () => 0 } });
    expect(bare.getState).toBeUndefined();
    expect(canRender(bare)).toBe(false);
    expect(canRender(asSingleAgent(makeMultiAgent('tag'), { agent: 'evader', others: { chaser_0: () => 0, chaser_1: () => 0 } }))).toBe(true);
    expect(() => checkEnv(bare, { steps: 30 })).not.toThrow();
    const env = asSingleAgent(new RaceEnv(), { agent: 'hare', others: { tortoise: () => 0 } });
    env.reset({ seed: 0 });
    expect(typeof env.getState).toBe('function');
    expect(() => env.setState!({ game: { multi: env.getState!().game, otherObs: { tortoise: [1, 2, 3] }, episodeStart: true, done: false } })).toThrow('[test/race.setState] expected a snapshot from getState() of this wrapper');
  });

  it("plays an 'external' seat with the actions set before each step, from the observations it reads", () => {
    const race = new RecordingRace();
    const env = asSingleAgent(race, { agent: 'tortoise', others: { hare: 'external' } });
    env.reset({ seed: 2 });
    expect(Array.from(env.otherObservations().hare!)).toEqual(Array.from(race.handedOut[0]!.hare!));
    expect(() => env.step(1)).toThrow(InvalidActionError);
    expect(() => env.step(1)).toThrow('[test/race.step] expected actions for the external seats hare from setOtherActions() before step(), received none; fix:');
    expect(race.played).toBe(0);
    env.setOtherActions({ hare: 0 });
    env.step(1);
    // The action is for one step only.
    expect(() => env.step(1)).toThrow(InvalidActionError);
    env.setOtherActions({ hare: 1 });
    env.step(1);
    env.setOtherActions({ hare: 1 });
    env.step(1);
    // The hare waited once, then moved twice: it finished at cell 2 and is no longer asked.
    expect(Object.keys(env.otherObservations())).toEqual([]);
    expect(() => env.setOtherActions({ hare: 1 })).toThrow("[test/race.setOtherActions] expected actions for the live external seats (none), received an action for \"hare\"; fix:");
    expect(env.step(1).reward).toBe(0);
    const other = asSingleAgent(new RaceEnv(), { agent: 'hare', others: { tortoise: 'external' } });
    other.reset({ seed: 0 });
    expect(() => other.setOtherActions({ tortoise: 5 })).toThrow('[test/race.setOtherActions] expected an action for tortoise in {"type":"Discrete","n":2,"start":0}, received 5; fix:');
  });

  it('a seat registered under its own id records episodes that replay exactly (make(spec.id, spec.options) rebuilds it)', async () => {
    for (const [id, game, agent] of [
      ['test/tag-evader', 'tag', 'evader'],
      ['test/pong-left', 'pong', 'left'],
    ] as const) {
      register(id, (o) => {
        const multi = makeMultiAgent(game, o);
        const others = Object.fromEntries(multi.possibleAgents.filter((a) => a !== agent).map((a) => [a, randomPolicy(multi.actionSpace(a))]));
        return asSingleAgent(multi, { id, agent, others });
      });
      const env = make(id, { maxSteps: 60 });
      expect(env.spec.id).toBe(id);
      const rng = new SeededRng(3);
      const file = await recordPolicyEpisode({ env, policy: () => ({ action: rng.int(0, (env.actionSpace as Discrete).n) }), dir, name: id.replace('/', '-'), seed: 7 });
      expect(file.steps).toBeGreaterThan(5);
      const ep = readEpisodeFile(file.path);
      expect(ep.header.game.id).toBe(id);
      expect(verifyEpisode(ep).ok).toBe(true);
    }
  });

  it('names the missing or extra seats and an unknown agent in one message', () => {
    expect(() => asSingleAgent(new RaceEnv(), { agent: 'fox', others: { hare: () => 0, owl: () => 0 } })).toThrow(InvalidConfigError);
    expect(() => asSingleAgent(new RaceEnv(), { agent: 'fox', others: { hare: () => 0, owl: () => 0 } })).toThrow(
      "[asSingleAgent(test/race)] expected agent: one of hare, tortoise and others: a policy function or 'external' for each other seat, received agent \"fox\" (possible agents: hare, tortoise); no policy (or 'external') for tortoise; policies for \"owl\", which is not another seat; fix:",
    );
  });
});
