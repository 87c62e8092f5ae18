/**
 * The multi-agent environment contract: PettingZoo's parallel API with this project's names. All
 * live agents act at once; every result is a dict keyed by agent name.
 * - `possibleAgents`: every agent that can take part, in a fixed order (the order opponents are
 *   asked for actions and dicts are filled in);
 * - `agents`: the agents still playing. An agent whose `terminated` or `truncated` came back true
 *   is removed after that step; stepping with an action for it (or for a name that is not a possible
 *   agent) is refused with `InvalidActionError`, and so is a step that leaves a live agent out;
 * - `reset({seed})` reseeds, `reset()` continues the stream (as `Env`); every agent is live again;
 * - `terminated` / `truncated` keep their single-agent meaning per agent (the game ended for the
 *   agent / it was cut off from outside, e.g. a step limit, so its value bootstraps).
 */
import type { EnvSnapshot, Info, ObsArray, ResetArgs, RgbFrame } from '../env.js';
import type { Space } from '../spaces.js';

/** One value per agent name. */
export type AgentDict<T> = Record<string, T>;

/** Static description of a multi-agent environment. */
export interface MultiAgentEnvSpec {
  /** Registry id, e.g. `tag`. */
  id: string;
  /** One human-readable name per action index, per agent. */
  actionNames: AgentDict<string[]>;
  /** Steps after which every live agent is truncated, if the game has a limit. */
  maxEpisodeSteps?: number;
  /** The options the env was made with (JSON-safe). */
  options?: Record<string, unknown>;
}

export interface MultiAgentResetResult<Obs> {
  /** One observation per live agent (all possible agents after a reset). */
  obs: AgentDict<Obs>;
  infos: AgentDict<Info>;
}

/** Every dict has exactly the agents that were live when `step` was called. */
export interface MultiAgentStepResult<Obs> {
  obs: AgentDict<Obs>;
  rewards: AgentDict<number>;
  terminated: AgentDict<boolean>;
  truncated: AgentDict<boolean>;
  infos: AgentDict<Info>;
}

/** A parallel multi-agent environment. Observations handed out are never overwritten later. */
export interface MultiAgentEnv<Obs = ObsArray, Act = number> {
  readonly spec: MultiAgentEnvSpec;
  readonly possibleAgents: readonly string[];
  /** The live agents (a fresh array; empty before the first reset and after the episode ended). */
  readonly agents: readonly string[];
  observationSpace(agent: string): Space<Obs>;
  actionSpace(agent: string): Space<Act>;
  reset(args?: ResetArgs): MultiAgentResetResult<Obs>;
  /** One action per live agent, no more, no less. */
  step(actions: AgentDict<Act>): MultiAgentStepResult<Obs>;
  /** Optional: an RGB picture of the whole game (the same for every agent). */
  render?(): RgbFrame;
  /** Releases resources; safe to call more than once. */
  close(): void;
  /** Optional: full internal state for checkpoints and replays (JSON-safe). */
  getState?(): EnvSnapshot;
  setState?(snapshot: EnvSnapshot): void;
}
