import { describe, expect, it } from 'vitest';
import '../../../games/index.js';
import { EnvCheckError } from '../../../src/envs/check-env.js';
import { checkMultiAgentEnv } from '../../../src/envs/multi/check.js';
import { listMultiAgentEnvs, makeMultiAgent } from '../../../src/envs/multi/registry.js';
import { BrokenAcceptsAnyAgent, BrokenForgetsCells, BrokenKeepsDoneAgents, BrokenObsOutOfSpace, BrokenPlainError, BrokenUnseeded, RaceEnv } from '../../fixtures/race-game.js';

// Iterates the registry, so multi-agent games added later are covered without editing this file.
const ids = listMultiAgentEnvs().map((e) => e.id);

function problemsOf(fn: () => void): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvCheckError);
    return (err as EnvCheckError).problems;
  }
  throw new Error('expected checkMultiAgentEnv to throw');
}

describe('checkMultiAgentEnv on every registered multi-agent game', () => {
  it('finds the bundled games', () => {
    expect(ids).toEqual(expect.arrayContaining(['pong', 'tag']));
  });

  it.each(ids)('%s passes', (id) => {
    expect(() => checkMultiAgentEnv(() => makeMultiAgent(id), { steps: 300 })).not.toThrow();
  });

  it('pong passes with state observations, tag on a small crowded grid (many catches and resets) and with the centred view', () => {
    expect(() => checkMultiAgentEnv(() => makeMultiAgent('pong', { obsType: 'state', pointsToWin: 1 }), { steps: 400 })).not.toThrow();
    expect(() => checkMultiAgentEnv(() => makeMultiAgent('tag', { size: 5, obstacles: 6, minStartDistance: 1, maxSteps: 10 }), { steps: 300 })).not.toThrow();
    expect(() => checkMultiAgentEnv(() => makeMultiAgent('tag', { view: 'centred' }), { steps: 150 })).not.toThrow();
  });
});

describe('checkMultiAgentEnv on test games', () => {
  it('passes a good game whose agents leave at different times, given as an env or a factory', () => {
    expect(() => checkMultiAgentEnv(() => new RaceEnv(), { steps: 100 })).not.toThrow();
    const env = new RaceEnv();
    expect(() => checkMultiAgentEnv(env, { steps: 100 })).not.toThrow();
    // A given env stays open and usable: the caller owns it.
    expect(Object.keys(env.reset({ seed: 1 }).obs)).toEqual(['hare', 'tortoise']);
  });

  it('names actions for unknown agents and for agents that are done that were played', () => {
    const problems = problemsOf(() => checkMultiAgentEnv(() => new BrokenAcceptsAnyAgent(), { steps: 50 }));
    expect(problems).toContain('[checkMultiAgentEnv(test/race)] expected an action for an unknown agent to be refused (InvalidActionError), received a step that was played; fix: validate the action dict before playing (MultiAgentGameEnv does)');
    expect(problems).toContain('[checkMultiAgentEnv(test/race)] expected an action for hare (an agent that is done) to be refused (InvalidActionError), received a step that was played; fix: validate the action dict before playing (MultiAgentGameEnv does)');
    expect(problems.some((p) => p.includes('expected a refused step to leave the game unchanged'))).toBe(true);
  });

  it('names refusals that are not our error in the standard shape', () => {
    const problems = problemsOf(() => checkMultiAgentEnv(() => new BrokenPlainError(), { steps: 50 }));
    expect(problems).toContain("[checkMultiAgentEnv(test/race)] expected an action for an unknown agent to be refused with a NpcforgeError '[Component] expected ..., received ...; fix: ...', received Error: bad actions; fix: throw InvalidActionError(formatError(...))");
    expect(problems.some((p) => p.includes('expected an action dict without the live agent hare to be refused with a NpcforgeError'))).toBe(true);
  });

  it('names agents that stay in agents after they terminated', () => {
    const problems = problemsOf(() => checkMultiAgentEnv(() => new BrokenKeepsDoneAgents(), { steps: 50 }));
    expect(problems[0]).toMatch(/^\[checkMultiAgentEnv\(test\/race\)\] expected agents after a step to be the live agents minus those terminated or truncated \(tortoise\), received hare, tortoise at step \d+; fix: remove an agent from agents once its terminated or truncated is true$/);
  });

  it('names the agent, the step and the index of an observation outside its space', () => {
    const problems = problemsOf(() => checkMultiAgentEnv(() => new BrokenObsOutOfSpace(), { steps: 50 }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\[checkMultiAgentEnv\(test\/race\)\] expected observations in each agent's observationSpace \(first seen for tortoise at step \d+\), received value 2 at index 0 outside \[0, 1\]; fix: make observations match the declared space \(shape, dtype, bounds\)$/);
  });

  it('finds randomness that does not come from the seeded RNG', () => {
    const problems = problemsOf(() => checkMultiAgentEnv(() => new BrokenUnseeded(), { steps: 30 }));
    expect(problems).toEqual(['[checkMultiAgentEnv(test/race)] expected identical episodes for the same seed and actions, received a difference at transition 0; fix: draw every random number from the env RNG seeded in reset({seed})']);
  });

  it('finds a saved state that leaves out what the game reads (the replay after setState differs)', () => {
    const problems = problemsOf(() => checkMultiAgentEnv(() => new BrokenForgetsCells(), { steps: 30 }));
    expect(problems).toContain('[checkMultiAgentEnv(test/race)] expected the same steps after setState(getState()) (JSON round trip), received a difference at step 1; fix: save every field the game reads in getState(), RNG included');
  });

  it('refuses something that is not a multi-agent env, in one line', () => {
    const problems = problemsOf(() => checkMultiAgentEnv((() => ({ reset() {}, step() {} })) as never));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\[checkMultiAgentEnv\(env\)\] expected a multi-agent env \(reset, step, observationSpace\(agent\), actionSpace\(agent\)\) or a function returning one, received .*; fix: pass makeMultiAgent\('tag'\)/);
  });
});
