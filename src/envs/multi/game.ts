/**
 * `MultiAgentGameEnv`: the parts every multi-agent game repeats, written once (the counterpart of
 * `GameEnv`). A game extends it and writes only its rules:
 * - `onReset(rng, options)`: set up a new episode, drawing every random number from `rng`;
 * - `onStep(actions)`: advance one step with one (already validated) action per live agent, return
 *   the rewards and which agents the game ended for (the step limit is the base class's business);
 * - `observe(agent)`: that agent's observation of the current state (a fresh array);
 * - `state()` / `restore(game)`: the game's own fields for `getState`/`setState` (JSON-safe);
 * - optionally `render()`.
 * The base class seeds (`reset({seed})` reseeds, `reset()` continues the stream), validates the
 * action dict (unknown agents, agents that are done, live agents left out, actions outside a space),
 * refuses `step` before `reset` or after every agent is done, truncates every live agent at
 * `maxSteps`, removes done agents from `agents`, and saves its own part of the state.
 */
import { EnvStateError, InvalidActionError, InvalidConfigError, ResetNeededError, describe, formatError } from '../../errors.js';
import type { EnvSnapshot, Info, ResetArgs } from '../env.js';
import type { ObsArray } from '../env.js';
import { SeededRng } from '../rng.js';
import type { Space } from '../spaces.js';
import type { AgentDict, MultiAgentEnv, MultiAgentEnvSpec, MultiAgentResetResult, MultiAgentStepResult } from './multi-agent-env.js';

/** What one agent of a game declares. */
export interface AgentSpec<Obs, Act> {
  observationSpace: Space<Obs>;
  actionSpace: Space<Act>;
  /** One human-readable name per action index. */
  actionNames: string[];
}

/** What a game declares once, in its constructor (`super(...)`). */
export interface MultiAgentGameEnvConfig<Obs, Act> {
  /** Registry id; names the game in every error. */
  id: string;
  /** The possible agents in their fixed order (the object's key order), each with its spaces. */
  agents: AgentDict<AgentSpec<Obs, Act>>;
  /** Steps after which every live agent is truncated; omit for no limit. */
  maxSteps?: number;
  /** The options the game was made with (JSON-safe). */
  options?: Record<string, unknown>;
}

/** What `onStep` returns. Agents left out of `rewards` get 0; left out of `terminated`, false. */
export interface MultiAgentStepOutcome {
  rewards: AgentDict<number>;
  terminated: AgentDict<boolean>;
  infos?: AgentDict<Info>;
}

/** Agent names: identifiers, so that key order is insertion order and names read well in errors. */
const AGENT_NAME = /^[a-z][a-z0-9_]*$/;

/** Keys of `getState().game` that the base class owns. */
const BASE_KEYS = ['agents', 'steps'] as const;

export abstract class MultiAgentGameEnv<Obs = ObsArray, Act = number> implements MultiAgentEnv<Obs, Act> {
  readonly spec: MultiAgentEnvSpec;
  readonly possibleAgents: readonly string[];
  /** The game's RNG: every random draw of the game comes from it. */
  protected rng = new SeededRng(0);
  private readonly agentSpecs: ReadonlyMap<string, AgentSpec<Obs, Act>>;
  private readonly maxSteps: number | undefined;
  private live: string[] = [];
  private steps = 0;
  /** False until the first reset (or setState): names the step-before-reset mistake. */
  private started = false;

  constructor(config: MultiAgentGameEnvConfig<Obs, Act>) {
    const { id, maxSteps } = config;
    const names = Object.keys(config.agents);
    const bad = names.filter((n) => !AGENT_NAME.test(n));
    if (names.length === 0 || bad.length) {
      throw new InvalidConfigError(formatError(id, 'at least one agent, named by lower-case letters, digits and _ (starting with a letter)', names.length ? `agents ${bad.map((n) => describe(n)).join(', ')}` : 'no agents', "name agents e.g. 'left', 'chaser_0'"));
    }
    if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) {
      throw new InvalidConfigError(formatError(id, 'maxSteps to be a positive integer', describe(maxSteps), 'pass e.g. maxSteps: 500, or leave it out for no limit'));
    }
    this.possibleAgents = Object.freeze([...names]);
    this.agentSpecs = new Map(names.map((n) => [n, config.agents[n]!]));
    this.maxSteps = maxSteps;
    const actionNames: AgentDict<string[]> = {};
    for (const n of names) actionNames[n] = config.agents[n]!.actionNames;
    this.spec = { id, actionNames, ...(maxSteps === undefined ? {} : { maxEpisodeSteps: maxSteps }), ...(config.options === undefined ? {} : { options: config.options }) };
  }

  /** Starts a new episode: the state before the first step. */
  protected abstract onReset(rng: SeededRng, options: Record<string, unknown> | undefined): void;
  /** Advances the game by one step; `actions` holds exactly the live agents, each action valid. */
  protected abstract onStep(actions: AgentDict<Act>): MultiAgentStepOutcome;
  /** `agent`'s observation of the current state; never a buffer handed out before. */
  protected abstract observe(agent: string): Obs;
  /** The game's own fields for `getState` (JSON-safe, without `agents` or `steps`). */
  protected abstract state(): Record<string, unknown>;
  /** Restores what `state()` returned (after a JSON round trip); throw on a malformed value. */
  protected abstract restore(game: Record<string, unknown>): void;

  get agents(): readonly string[] {
    return [...this.live];
  }

  observationSpace(agent: string): Space<Obs> {
    return this.specOf(agent, 'observationSpace').observationSpace;
  }

  actionSpace(agent: string): Space<Act> {
    return this.specOf(agent, 'actionSpace').actionSpace;
  }

  private specOf(agent: string, method: string): AgentSpec<Obs, Act> {
    const s = this.agentSpecs.get(agent);
    if (!s) throw new InvalidConfigError(formatError(`${this.spec.id}.${method}`, `one of the possible agents ${this.possibleAgents.join(', ')}`, describe(agent), 'pass a name from env.possibleAgents'));
    return s;
  }

  reset(args: ResetArgs = {}): MultiAgentResetResult<Obs> {
    if (args.seed !== undefined) this.rng = new SeededRng(args.seed);
    this.steps = 0;
    this.started = true;
    this.live = [...this.possibleAgents];
    this.onReset(this.rng, args.options);
    const obs: AgentDict<Obs> = {};
    const infos: AgentDict<Info> = {};
    for (const a of this.live) {
      obs[a] = this.observe(a);
      infos[a] = {};
    }
    return { obs, infos };
  }

  step(actions: AgentDict<Act>): MultiAgentStepResult<Obs> {
    const where = `${this.spec.id}.step`;
    if (this.live.length === 0) {
      const received = !this.started ? 'step() before the first reset()' : 'step() after every agent is done';
      throw new ResetNeededError(formatError(where, 'reset() before stepping', received, 'call env.reset() when env.agents is empty'));
    }
    checkActions(where, actions, this.possibleAgents, this.live, (a) => this.agentSpecs.get(a)!.actionSpace);
    const outcome = this.onStep(actions);
    this.steps++;
    const limit = this.maxSteps !== undefined && this.steps >= this.maxSteps;
    const result: MultiAgentStepResult<Obs> = { obs: {}, rewards: {}, terminated: {}, truncated: {}, infos: {} };
    for (const a of this.live) {
      const terminated = outcome.terminated[a] === true;
      result.obs[a] = this.observe(a);
      result.rewards[a] = outcome.rewards[a] ?? 0;
      result.terminated[a] = terminated;
      result.truncated[a] = !terminated && limit;
      result.infos[a] = outcome.infos?.[a] ?? {};
    }
    this.live = this.live.filter((a) => !result.terminated[a] && !result.truncated[a]);
    return result;
  }

  close(): void {}

  getState(): EnvSnapshot {
    const own = this.state();
    for (const k of BASE_KEYS) {
      if (Object.hasOwn(own, k)) throw new EnvStateError(formatError(`${this.spec.id}.getState`, `a game state without the base keys ${BASE_KEYS.join(', ')}`, `key ${k}`, 'rename the field in state()'));
    }
    return { game: { ...own, agents: [...this.live], steps: this.steps }, rng: this.rng.getState() };
  }

  setState(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as Record<string, unknown> | undefined;
    const agents = g?.agents;
    const okAgents = Array.isArray(agents) && agents.every((a) => typeof a === 'string' && this.agentSpecs.has(a));
    if (!g || typeof g !== 'object' || !okAgents || !Number.isInteger(g.steps) || (g.steps as number) < 0) {
      throw new EnvStateError(formatError(`${this.spec.id}.setState`, 'a snapshot {game: {..., agents, steps}} from getState()', describe(g), 'pass the output of getState()'));
    }
    const { agents: _a, steps, ...own } = g;
    this.restore(own);
    // Kept in possibleAgents order whatever order the snapshot lists them in.
    this.live = this.possibleAgents.filter((a) => (agents as string[]).includes(a));
    this.steps = steps as number;
    this.started = true;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}

/**
 * Refuses an action dict that is not exactly one valid action per live agent: names the unknown
 * agents, the agents that are done, the live agents left out, or the first action outside its space.
 */
export function checkActions<Act>(where: string, actions: AgentDict<Act>, possible: readonly string[], live: readonly string[], spaceOf: (agent: string) => Space<Act>): void {
  const fix = 'pass one action per agent in env.agents (agents that are done get none)';
  if (typeof actions !== 'object' || actions === null || Array.isArray(actions) || ArrayBuffer.isView(actions)) {
    throw new InvalidActionError(formatError(where, `an object of actions keyed by agent (${live.join(', ')})`, describe(actions), fix));
  }
  const keys = Object.keys(actions);
  const unknown = keys.filter((k) => !possible.includes(k));
  if (unknown.length) throw new InvalidActionError(formatError(where, `actions for the agents ${live.join(', ')}`, `actions for unknown agents ${unknown.map((k) => describe(k)).join(', ')}`, fix));
  const dead = keys.filter((k) => !live.includes(k));
  if (dead.length) throw new InvalidActionError(formatError(where, `actions for the live agents ${live.join(', ')} only`, `actions for agents that are done: ${dead.join(', ')}`, fix));
  const missing = live.filter((a) => !Object.hasOwn(actions, a));
  if (missing.length) throw new InvalidActionError(formatError(where, `an action for every live agent (${live.join(', ')})`, `none for ${missing.join(', ')}`, fix));
  for (const a of live) {
    const space = spaceOf(a);
    if (!space.contains(actions[a])) throw new InvalidActionError(formatError(where, `an action for ${a} in ${JSON.stringify(space.toJSON())}`, describe(actions[a]), `pass an action from env.actionSpace('${a}')`));
  }
}
