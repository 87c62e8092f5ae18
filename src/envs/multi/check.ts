/**
 * `checkMultiAgentEnv`: the contract checks of `checkEnv`, for parallel multi-agent envs. Accepts
 * an env or a factory, runs every check it can and throws one `EnvCheckError` listing every
 * problem (each `[checkMultiAgentEnv(id)] expected ..., received ...; fix: ...`).
 */
import { NpcforgeError, describe, formatError } from '../../errors.js';
import { EnvCheckError } from '../check-env.js';
import { compareStateReplay, isSpace, renderChecker, type CheckProblem, snapshot, whyNotIn } from '../check-shared.js';
import type { EnvSnapshot } from '../env.js';
import { SeededRng } from '../rng.js';
import type { AgentDict, MultiAgentEnv } from './multi-agent-env.js';

export interface CheckMultiAgentEnvOptions {
  /** Steps checked (over as many episodes as they take; default 200). */
  steps?: number;
  /** Seed used for the determinism check (default 123). */
  seed?: number;
  /** Skip the render checks. */
  skipRender?: boolean;
}

/** A name no game uses: the probe for actions addressed to an unknown agent. */
const UNKNOWN_AGENT = 'not_an_agent_of_this_game';
/** The message shape of every error the framework throws on purpose. */
const ERROR_SHAPE = /^\[[^\]]+\] expected .+, received .+; fix: .+/s;

type Problem = CheckProblem;
type AnyMultiEnv = MultiAgentEnv<any, any>;

function isMultiAgentEnv(x: unknown): x is AnyMultiEnv {
  const e = x as Partial<AnyMultiEnv> | null;
  return typeof e === 'object' && e !== null && typeof e.reset === 'function' && typeof e.step === 'function' && typeof e.observationSpace === 'function' && typeof e.actionSpace === 'function';
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * Runs the checks twice with the same seed and compares the runs. Given a factory, each run gets
 * a fresh env, closed twice afterwards; given an env, both runs use it and it stays open.
 * Checks: possible agents and the spec; per-agent spaces; reset and step results (dicts keyed by
 * exactly the live agents, observations in each agent's space, numeric rewards, boolean flags,
 * earlier observations unchanged); agents removed after they terminate or truncate; actions for an
 * unknown agent, for an agent that is done, or a dict that leaves a live agent out, refused with a
 * NpcforgeError in the `[Component] expected ..., received ...; fix: ...` shape and without
 * advancing the game; step after every agent is done refused; getState/setState replay the same
 * steps; render, when present, frames of one size; identical runs under one seed.
 */
export function checkMultiAgentEnv(envOrFactory: AnyMultiEnv | (() => AnyMultiEnv), opts: CheckMultiAgentEnvOptions = {}): void {
  const factory = typeof envOrFactory === 'function' ? envOrFactory : null;
  const problems = new Map<string, string>();
  let id = 'env';
  // One entry per kind of problem: a broken observation is reported once, not at every step.
  const problem: Problem = (kind, expected, received, fix) => {
    if (!problems.has(kind)) problems.set(kind, formatError(`checkMultiAgentEnv(${id})`, expected, received, fix));
  };
  const report = (): void => {
    if (problems.size === 0) return;
    const lines = [...problems.values()];
    const err = new EnvCheckError(lines.length === 1 ? lines[0]! : `[checkMultiAgentEnv(${id})] ${lines.length} problems:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
    err.problems.push(...lines);
    throw err;
  };
  const given = factory === null ? (envOrFactory as AnyMultiEnv) : null;
  const steps = opts.steps ?? 200;
  const seed = opts.seed ?? 123;
  const runs: string[][] = [];
  for (let run = 0; run < 2; run++) {
    const env: AnyMultiEnv = given ?? factory!();
    if (!isMultiAgentEnv(env)) {
      problem('env', 'a multi-agent env (reset, step, observationSpace(agent), actionSpace(agent)) or a function returning one', describe(env), "pass makeMultiAgent('tag') or () => makeMultiAgent('tag')");
      report();
    }
    id = env.spec?.id ?? 'env';
    checkDeclarations(env, problem);
    if (problems.size) report();
    try {
      runs.push(checkRun(env, { steps, seed, skipRender: opts.skipRender === true }, problem));
    } catch (err) {
      // A contract break seen earlier can make a later, valid-looking call fail: report both.
      problem('threw', 'reset() and step() with one valid action per agent in env.agents to succeed', `${(err as Error)?.name ?? 'an error'}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, 'fix the problems listed with it, or the error');
      runs.push([]);
    }
    if (!given) {
      env.close();
      env.close();
    }
  }
  const [a, b] = runs as [string[], string[]];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      problem('determinism', 'identical episodes for the same seed and actions', `a difference at transition ${i}`, 'draw every random number from the env RNG seeded in reset({seed})');
      break;
    }
  }
  report();
}

/** possibleAgents, spec and per-agent spaces. */
function checkDeclarations(env: AnyMultiEnv, problem: Problem): void {
  const possible = env.possibleAgents as unknown;
  if (!Array.isArray(possible) || possible.length === 0 || possible.some((a) => typeof a !== 'string') || new Set(possible).size !== possible.length) {
    problem('possibleAgents', 'possibleAgents: a non-empty array of distinct names', describe(possible), "declare e.g. possibleAgents = ['left', 'right']");
    return;
  }
  if (!env.spec || typeof env.spec.id !== 'string' || typeof env.spec.actionNames !== 'object' || env.spec.actionNames === null) {
    problem('spec', 'a spec with an id and actionNames per agent', describe(env.spec), 'set spec.id and spec.actionNames[agent]');
    return;
  }
  for (const a of possible as string[]) {
    if (!Array.isArray(env.spec.actionNames[a])) problem('spec', `spec.actionNames for every possible agent`, `none for ${a}`, 'set spec.actionNames[agent]');
    let obsSpace: unknown;
    let actSpace: unknown;
    try {
      obsSpace = env.observationSpace(a);
      actSpace = env.actionSpace(a);
    } catch (err) {
      problem('spaces', `observationSpace(agent) and actionSpace(agent) for every possible agent`, `an error for ${a}: ${(err as Error).message.split('\n')[0]}`, 'declare both spaces for every agent');
      continue;
    }
    if (!isSpace(obsSpace)) problem('obsSpace', `observationSpace('${a}') to be a space (Box or Dict)`, describe(obsSpace), 'return new Box(...) or new Dict(...)');
    if (!isSpace(actSpace)) problem('actSpace', `actionSpace('${a}') to be a space (Discrete, MultiDiscrete or Box)`, describe(actSpace), 'return new Discrete(n), ...');
  }
}

/** Reports a problem unless `fn` throws an error of ours in the standard message shape. */
function expectRefusal(fn: () => unknown, kind: string, what: string, problem: Problem, fix: string): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof NpcforgeError) || !ERROR_SHAPE.test(err.message)) {
      problem(kind, `${what} to be refused with a NpcforgeError '[Component] expected ..., received ...; fix: ...'`, `${(err as Error)?.name ?? describe(err)}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, 'throw InvalidActionError(formatError(...))');
    }
    return;
  }
  problem(kind, `${what} to be refused (InvalidActionError)`, 'a step that was played', fix);
}

/** One seeded run of `steps` steps; returns its trace for the determinism check. */
function checkRun(env: AnyMultiEnv, o: { steps: number; seed: number; skipRender: boolean }, problem: Problem): string[] {
  const rng = new SeededRng(o.seed);
  const possible = env.possibleAgents;
  const trace: string[] = [];
  const drawable = !o.skipRender && typeof env.render === 'function';
  const renderCheck = drawable ? renderChecker(() => env.render!(), problem) : null;
  const checkRender = (): void => renderCheck?.();
  const checkObsDict = (obs: AgentDict<unknown>, where: string): void => {
    for (const [a, x] of Object.entries(obs)) {
      if (!possible.includes(a)) continue;
      const space = env.observationSpace(a);
      if (!space.contains(x)) problem('obs', `observations in each agent's observationSpace (first seen for ${a} at ${where})`, whyNotIn(space, x), 'make observations match the declared space (shape, dtype, bounds)');
    }
  };
  const checkKeys = (dict: unknown, name: string, live: readonly string[], where: string): boolean => {
    if (typeof dict !== 'object' || dict === null) {
      problem(`keys:${name}`, `${name}: a dict keyed by the live agents`, `${describe(dict)} at ${where}`, `return ${name} as { [agent]: value }`);
      return false;
    }
    const keys = Object.keys(dict);
    if (!sameSet(keys, live)) problem(`keys:${name}`, `${name} keyed by exactly the agents live before the step (${live.join(', ')})`, `keys ${keys.join(', ') || '(none)'} at ${where}`, 'fill one entry per live agent, none for agents that are done');
    return true;
  };
  const randomActions = (live: readonly string[]): AgentDict<unknown> => {
    const actions: AgentDict<unknown> = {};
    for (const a of live) actions[a] = env.actionSpace(a).sample(rng);
    return actions;
  };
  const stateText = (): string | null => (typeof env.getState === 'function' ? JSON.stringify(env.getState()) : null);

  const reset = env.reset({ seed: o.seed });
  if (!reset || typeof reset !== 'object' || typeof reset.obs !== 'object' || reset.obs === null || typeof reset.infos !== 'object' || reset.infos === null) {
    problem('reset', 'reset() to return {obs, infos} (dicts keyed by agent)', describe(reset), 'return { obs: {[agent]: obs}, infos: {[agent]: {}} }');
    return trace;
  }
  let live = [...env.agents];
  if (live.length === 0 || live.some((a) => !possible.includes(a))) {
    problem('agentsAfterReset', 'agents after reset() to be a non-empty subset of possibleAgents', describe(live), 'set agents = [...possibleAgents] in reset()');
    return trace;
  }
  checkKeys(reset.obs, 'obs', live, 'reset');
  checkKeys(reset.infos, 'infos', live, 'reset');
  checkObsDict(reset.obs, 'reset');
  checkRender();
  trace.push(snapshot(reset.obs));

  // Bad action dicts right after reset: each must be refused and leave the game as it was.
  const before = stateText();
  const fix = 'validate the action dict before playing (MultiAgentGameEnv does)';
  expectRefusal(() => env.step({ ...randomActions(live), [UNKNOWN_AGENT]: env.actionSpace(live[0]!).sample(rng) }), 'unknownAgent', 'an action for an unknown agent', problem, fix);
  const partial = randomActions(live);
  delete partial[live[0]!];
  expectRefusal(() => env.step(partial), 'missingAgent', `an action dict without the live agent ${live[0]}`, problem, fix);
  if (before !== null && stateText() !== before) problem('refusedChanged', 'a refused step to leave the game unchanged', 'a different getState() after it', 'validate every action before changing any state');

  let obs: AgentDict<unknown> = reset.obs;
  let deadChecked = false;
  let afterDoneChecked = false;
  let stateChecked = false;
  for (let t = 0; t < o.steps; t++) {
    if (!stateChecked && t === 2) stateChecked = checkStateRoundTrip(env, live, rng, problem);
    const actions = randomActions(live);
    const earlier = snapshot(obs);
    const r = env.step(actions);
    const where = `step ${t + 1}`;
    if (snapshot(obs) !== earlier) problem('overwrite', 'earlier observations to stay unchanged after step()', `obs of step ${t} was overwritten`, 'return fresh arrays from every step');
    const shaped = ['obs', 'rewards', 'terminated', 'truncated', 'infos'].every((k) => checkKeys((r as unknown as Record<string, unknown>)?.[k], k, live, where));
    if (!shaped) break;
    checkObsDict(r.obs, where);
    for (const a of live) {
      const reward = r.rewards[a];
      if (typeof reward !== 'number' || Number.isNaN(reward)) problem('reward', 'a numeric reward per agent', `${describe(reward)} for ${a}`, 'return numbers');
      if (typeof r.terminated[a] !== 'boolean' || typeof r.truncated[a] !== 'boolean') problem('flags', 'boolean terminated and truncated per agent', `${describe(r.terminated[a])}, ${describe(r.truncated[a])} for ${a}`, 'return booleans');
      if (typeof r.infos[a] !== 'object' || r.infos[a] === null) problem('info', 'an info object per agent', describe(r.infos[a]), 'return infos: { [agent]: {} }');
    }
    checkRender();
    trace.push(`${snapshot(r.obs)}|${snapshot(r.rewards)}|${snapshot(r.terminated)}|${snapshot(r.truncated)}|${snapshot(actions)}`);
    const done = live.filter((a) => r.terminated[a] === true || r.truncated[a] === true);
    const expected = live.filter((a) => !done.includes(a));
    const now = [...env.agents];
    if (!sameSet(now, expected)) problem('agentsAfterStep', `agents after a step to be the live agents minus those terminated or truncated (${expected.join(', ') || 'none'})`, `${now.join(', ') || 'none'} at ${where}`, 'remove an agent from agents once its terminated or truncated is true');
    live = expected;
    obs = r.obs;
    if (!deadChecked && done.length > 0 && live.length > 0) {
      deadChecked = true;
      const saved = stateText();
      expectRefusal(() => env.step({ ...randomActions(live), [done[0]!]: env.actionSpace(done[0]!).sample(rng) }), 'deadAgent', `an action for ${done[0]} (an agent that is done)`, problem, fix);
      if (saved !== null && stateText() !== saved) problem('refusedChanged', 'a refused step to leave the game unchanged', 'a different getState() after it', 'validate every action before changing any state');
    }
    if (live.length === 0) {
      if (!afterDoneChecked) {
        afterDoneChecked = true;
        const last = done.length ? done : possible;
        expectRefusal(() => env.step(Object.fromEntries(last.map((a) => [a, env.actionSpace(a).sample(new SeededRng(o.seed))]))), 'afterDone', 'step() after every agent is done', problem, 'refuse step() until reset() (ResetNeededError), e.g. by extending MultiAgentGameEnv');
      }
      const again = env.reset();
      live = [...env.agents];
      checkObsDict(again.obs, `reset after step ${t + 1}`);
      obs = again.obs;
      trace.push(`reset|${snapshot(again.obs)}`);
    }
  }
  return trace;
}

/**
 * getState, three steps, setState, the same three steps: the two runs must agree. The env is left
 * in the saved state. Returns false when the env has no getState/setState (they are optional).
 */
function checkStateRoundTrip(env: AnyMultiEnv, liveNow: readonly string[], rng: SeededRng, problem: Problem): boolean {
  if (typeof env.getState !== 'function' || typeof env.setState !== 'function') return false;
  const saved = JSON.stringify(env.getState());
  // Both replays draw the same actions from one seed.
  const actionSeed = rng.int(0, 0x7fffffff);
  const play = (): string[] => {
    const r2 = new SeededRng(actionSeed);
    const out: string[] = [];
    // The live agents as the step results say (not env.agents, which the main loop checks).
    let live = [...liveNow];
    for (let i = 0; i < 3 && live.length > 0; i++) {
      const actions: AgentDict<unknown> = {};
      for (const a of live) actions[a] = env.actionSpace(a).sample(r2);
      const r = env.step(actions);
      out.push(`${snapshot(r.obs)}|${snapshot(r.rewards)}|${snapshot(r.terminated)}|${snapshot(r.truncated)}`);
      live = live.filter((a) => !r.terminated[a] && !r.truncated[a]);
    }
    return out;
  };
  compareStateReplay(saved, (state) => env.setState!(state as EnvSnapshot), play, problem);
  return true;
}
