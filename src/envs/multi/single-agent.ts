/**
 * `asSingleAgent`: one seat of a multi-agent game as an ordinary `Env`, the other seats played by
 * fixed policies, so every single-agent trainer, evaluator and recorder works in it unchanged.
 * The episode ends when the controlled agent's does (terminated or truncated); the game may go on
 * for the others, but the wrapper then refuses `step` until `reset`. Agents that drop out before
 * the controlled one are no longer asked for actions.
 */
import { InvalidActionError, InvalidConfigError, ResetNeededError, describe, formatError } from '../../errors.js';
import { type Env, type EnvSnapshot, type EnvSpec, type ObsArray, type ResetArgs, type ResetResult, type RgbFrame, type StepResult } from '../env.js';
import { SeededRng, type Rng } from '../rng.js';
import { Box, type Space } from '../spaces.js';
import type { AgentDict, MultiAgentEnv } from './multi-agent-env.js';

/** What a fixed policy is told besides its own observation. */
export interface PolicyContext {
  /** The seat it plays. */
  agent: string;
  /**
   * The wrapper's RNG for the other seats' random draws: reseeded by `reset({seed})` and saved by
   * `getState`, so a seed means the same opponents' moves too.
   */
  rng: Rng;
  /** True on the first observation of an episode (a recurrent policy resets its state). */
  episodeStart: boolean;
}

/** A fixed policy for one seat: its own observation in, its action out (synchronously). */
export type FixedPolicy<Obs = ObsArray, Act = number> = (obs: Obs, context: PolicyContext) => Act;

/**
 * A seat whose actions come from outside: before every `step`, the caller reads the seat's
 * observation with `otherObservations()` and hands its action to `setOtherActions()`. For
 * policies that cannot answer synchronously (an agent's `act` is async) or that act for many envs
 * in one batch (self-play opponents).
 */
export const EXTERNAL_SEAT = 'external';

export interface SingleAgentOptions<Obs = ObsArray, Act = number> {
  /** The seat the learner plays (one of `possibleAgents`). */
  agent: string;
  /**
   * The id the env is registered under with `register` (default: the multi-agent game's id). Runs
   * and recorded episodes name it, and `make(spec.id, spec.options)` must build it again (replay
   * verification does), so a registered seat passes its own id.
   */
  id?: string;
  /** For each other possible agent (teammates and opponents alike): a fixed policy, or `'external'`. */
  others: AgentDict<FixedPolicy<Obs, Act> | typeof EXTERNAL_SEAT>;
}

/** A policy that samples uniformly from the seat's action space (with the wrapper's RNG). */
export function randomPolicy<Obs, Act>(space: Space<Act>): FixedPolicy<Obs, Act> {
  return (_obs, { rng }) => space.sample(rng);
}

/** Plays `options.agent` of `env`; the other seats are played by `options.others`. */
export function asSingleAgent<Obs = ObsArray, Act = number>(env: MultiAgentEnv<Obs, Act>, options: SingleAgentOptions<Obs, Act>): SingleAgentEnv<Obs, Act> {
  return new SingleAgentEnv(env, options);
}

/** Derives the other seats' seed from the episode seed, so their draws do not repeat the game's. */
function othersSeed(seed: number): string {
  return `others:${seed}`;
}

export class SingleAgentEnv<Obs = ObsArray, Act = number> implements Env<Obs, Act> {
  readonly observationSpace: Space<Obs>;
  readonly actionSpace: Space<Act>;
  readonly spec: EnvSpec;
  readonly agent: string;
  private readonly others: ReadonlyArray<[string, FixedPolicy<Obs, Act> | typeof EXTERNAL_SEAT]>;
  /** Actions of external seats for the next step (see `setOtherActions`). */
  private externalActions = new Map<string, Act>();
  private rng: SeededRng = new SeededRng(othersSeed(0));
  /** The other live seats' latest observations (what their policies act on next). */
  private otherObs = new Map<string, Obs>();
  private episodeStart = true;
  private done = true;
  /**
   * Present only when the game has getState/setState: the runner then checkpoints episodes exactly,
   * and restarts them (saying so) for a game that cannot snapshot itself, as for any Env.
   */
  getState?: () => EnvSnapshot;
  setState?: (snapshot: EnvSnapshot) => void;
  /** Present only when the game draws (`canRender` then says false, as for a game without render()). */
  render?: () => RgbFrame;

  constructor(
    readonly multi: MultiAgentEnv<Obs, Act>,
    options: SingleAgentOptions<Obs, Act>,
  ) {
    const id = multi.spec.id;
    const possible = multi.possibleAgents;
    const { agent, others } = options;
    const problems: string[] = [];
    if (!possible.includes(agent)) problems.push(`agent ${describe(agent)} (possible agents: ${possible.join(', ')})`);
    const given = others && typeof others === 'object' ? Object.keys(others) : [];
    const needed = possible.filter((a) => a !== agent);
    const missing = needed.filter((a) => typeof others?.[a] !== 'function' && others?.[a] !== EXTERNAL_SEAT);
    const extra = given.filter((a) => !needed.includes(a));
    if (missing.length) problems.push(`no policy (or '${EXTERNAL_SEAT}') for ${missing.join(', ')}`);
    if (extra.length) problems.push(`policies for ${extra.map((a) => describe(a)).join(', ')}, which ${extra.length === 1 ? 'is not another seat' : 'are not other seats'}`);
    if (problems.length) {
      throw new InvalidConfigError(formatError(`asSingleAgent(${id})`, `agent: one of ${possible.join(', ')} and others: a policy function or '${EXTERNAL_SEAT}' for each other seat`, problems.join('; '), 'pass e.g. { agent, others: { [seat]: randomPolicy(env.actionSpace(seat)) } } for every other seat'));
    }
    this.agent = agent;
    this.others = needed.map((a) => [a, others[a]!]);
    this.observationSpace = multi.observationSpace(agent);
    this.actionSpace = multi.actionSpace(agent);
    const { maxEpisodeSteps, options: gameOptions } = multi.spec;
    this.spec = {
      id: options.id ?? id,
      actionNames: multi.spec.actionNames[agent] ?? [],
      ...(maxEpisodeSteps === undefined ? {} : { maxEpisodeSteps }),
      // The game's options only: the seat and the other policies belong to the registered id.
      ...(gameOptions === undefined ? {} : { options: { ...gameOptions } }),
    };
    if (typeof multi.render === 'function') this.render = () => multi.render!();
    if (typeof multi.getState === 'function' && typeof multi.setState === 'function') {
      this.getState = () => this.snapshot();
      this.setState = (snapshot) => this.restoreSnapshot(snapshot);
    }
  }

  reset(args: ResetArgs = {}): ResetResult<Obs> {
    if (args.seed !== undefined) this.rng = new SeededRng(othersSeed(args.seed));
    const r = this.multi.reset(args);
    this.otherObs.clear();
    this.externalActions.clear();
    for (const [a] of this.others) if (Object.hasOwn(r.obs, a)) this.otherObs.set(a, r.obs[a]!);
    this.episodeStart = true;
    this.done = false;
    return { obs: r.obs[this.agent]!, info: r.infos[this.agent] ?? {} };
  }

  step(action: Act): StepResult<Obs> {
    if (this.done) {
      throw new ResetNeededError(formatError(`${this.spec.id}.step`, 'reset() before stepping', `step() after ${this.agent}'s episode ended (or before the first reset())`, 'call env.reset() when terminated or truncated is true'));
    }
    const live = this.multi.agents;
    const actions: AgentDict<Act> = { [this.agent]: action };
    const unset = this.others.filter(([a, p]) => p === EXTERNAL_SEAT && live.includes(a) && !this.externalActions.has(a)).map(([a]) => a);
    if (unset.length) {
      throw new InvalidActionError(formatError(`${this.spec.id}.step`, `actions for the external seats ${unset.join(', ')} from setOtherActions() before step()`, 'none', 'read otherObservations(), then call setOtherActions({ [seat]: action }) before every step'));
    }
    const context: PolicyContext = { agent: '', rng: this.rng, episodeStart: this.episodeStart };
    for (const [a, policy] of this.others) {
      if (!live.includes(a)) continue;
      if (policy === EXTERNAL_SEAT) {
        actions[a] = this.externalActions.get(a)!;
        continue;
      }
      context.agent = a;
      actions[a] = policy(this.otherObs.get(a)!, context);
    }
    this.externalActions.clear();
    const r = this.multi.step(actions);
    this.episodeStart = false;
    for (const [a] of this.others) {
      if (Object.hasOwn(r.obs, a)) this.otherObs.set(a, r.obs[a]!);
      if (r.terminated[a] || r.truncated[a]) this.otherObs.delete(a);
    }
    const terminated = r.terminated[this.agent]!;
    const truncated = r.truncated[this.agent]!;
    this.done = terminated || truncated;
    return { obs: r.obs[this.agent]!, reward: r.rewards[this.agent]!, terminated, truncated, info: r.infos[this.agent] ?? {} };
  }

  close(): void {
    this.multi.close();
  }

  /** The observations the other live seats act on next (each seat's own view; never overwritten). */
  otherObservations(): AgentDict<Obs> {
    return Object.fromEntries(this.otherObs);
  }

  /**
   * Actions of external seats for the next `step` only (checked against their action spaces). A
   * seat that is not external, or no longer live, is refused by name.
   */
  setOtherActions(actions: AgentDict<Act>): void {
    const where = `${this.spec.id}.setOtherActions`;
    const external = this.others.filter(([a, p]) => p === EXTERNAL_SEAT && this.otherObs.has(a)).map(([a]) => a);
    for (const [a, act] of Object.entries(actions)) {
      if (!external.includes(a)) throw new InvalidActionError(formatError(where, `actions for the live external seats (${external.join(', ') || 'none'})`, `an action for ${describe(a)}`, `declare the seat as others: { ${a}: '${EXTERNAL_SEAT}' }, and set actions only for seats still playing`));
      const space = this.multi.actionSpace(a);
      if (!space.contains(act)) throw new InvalidActionError(formatError(where, `an action for ${a} in ${JSON.stringify(space.toJSON())}`, describe(act), `pass an action from actionSpace('${a}')`));
      this.externalActions.set(a, act);
    }
  }

  /** The game's state, the other seats' RNG and their pending observations (JSON-safe). */
  private snapshot(): EnvSnapshot {
    const pending: Record<string, number[]> = {};
    for (const [a, o] of this.otherObs) pending[a] = Array.from(o as unknown as ArrayLike<number>);
    return { game: { multi: this.multi.getState!(), otherObs: pending, episodeStart: this.episodeStart, done: this.done }, rng: this.rng.getState() };
  }

  private restoreSnapshot(snapshot: EnvSnapshot): void {
    const g = snapshot?.game as { multi?: EnvSnapshot; otherObs?: Record<string, unknown>; episodeStart?: unknown; done?: unknown } | undefined;
    const where = `${this.spec.id}.setState`;
    const bad: () => never = () => {
      throw new InvalidConfigError(formatError(where, 'a snapshot from getState() of this wrapper', describe(g), 'pass the output of getState()'));
    };
    if (!g || typeof g !== 'object' || !g.multi || typeof g.episodeStart !== 'boolean' || typeof g.done !== 'boolean' || !g.otherObs || typeof g.otherObs !== 'object') bad();
    const pending = new Map<string, Obs>();
    for (const [a, values] of Object.entries(g!.otherObs!)) {
      if (!this.others.some(([o]) => o === a) || !Array.isArray(values)) bad();
      const space: Space<unknown> = this.multi.observationSpace(a);
      if (!(space instanceof Box) || (values as unknown[]).length !== space.size) bad();
      const obs = allocLike(space, values as number[]) as unknown as Obs;
      if (!space.contains(obs)) bad();
      pending.set(a, obs);
    }
    this.multi.setState!(g!.multi!);
    this.otherObs = pending;
    this.externalActions.clear();
    this.episodeStart = g!.episodeStart as boolean;
    this.done = g!.done as boolean;
    if (snapshot.rng) this.rng.setState(snapshot.rng);
  }
}

function allocLike(space: Box, values: number[]): ObsArray {
  return space.dtype === 'uint8' ? Uint8Array.from(values) : space.dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
}
