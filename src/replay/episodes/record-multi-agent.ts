/**
 * RecordMultiAgentEpisode: a multi-agent env wrapper that writes every episode of the wrapped game
 * to `<dir>/<name>.npcep` as a multi-agent episode (format version 3): every agent's action,
 * reward, flags and (when given) annotations per step, the frames of `render()`, and who controlled
 * each agent. Put it directly around the env `makeMultiAgent` returned (`verifyEpisode` rebuilds
 * only that); `asSingleAgent` and match loops then play through it unchanged.
 */
import { join } from 'node:path';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import type { EnvSnapshot, ResetArgs, RgbFrame } from '../../envs/env.js';
import type { Space } from '../../envs/spaces.js';
import type { AgentDict, MultiAgentEnv, MultiAgentEnvSpec, MultiAgentResetResult, MultiAgentStepResult } from '../../envs/multi/multi-agent-env.js';
import { EPISODE_EXTENSION, MAX_CONTROLLER_LENGTH, type EpisodeAgent, type StepAnnotation } from './format.js';
import { EpisodeFileWriter } from './writer.js';
import { episodeName, gameSlug } from './episode-name.js';
import type { RecordedFile } from './record-episode.js';

export interface RecordMultiAgentEpisodeOptions {
  /** Folder the episode files go to (created when missing). */
  dir: string;
  /** File name without extension of the n-th episode (0-based); default `<game>-s<seed>-e<n, 3 digits>`. */
  name?: (episodeIndex: number, seed: number | null) => string;
  /** Who controls each agent (`bot`, `random`, `<run>:<step>`, ...); agents left out are `unknown`. */
  controllers?: AgentDict<string>;
  /** The agent being trained or evaluated (its values are the episode's `return`), or null. */
  learner?: string | null;
  /** Frames per chunk, or 'auto' (default): see EpisodeEncoderOptions. */
  keyframeInterval?: number | 'auto';
  /** Deflate level 0-9 (default 9). */
  compressionLevel?: number;
  /** JSON-safe metadata stored in each file's header. */
  meta?: Record<string, unknown> | ((episodeIndex: number) => Record<string, unknown>);
  /** Called with every finished file. */
  onEpisode?: (file: RecordedFile) => void;
}

/** A JSON round trip: detaches the snapshot from the live game (null when the game refuses, e.g. before its first reset). */
function snapshot<O, A>(env: MultiAgentEnv<O, A>): EnvSnapshot | null {
  if (typeof env.getState !== 'function') return null;
  try {
    return JSON.parse(JSON.stringify(env.getState())) as EnvSnapshot;
  } catch {
    return null;
  }
}

export class RecordMultiAgentEpisode<Obs = unknown> implements MultiAgentEnv<Obs, number> {
  /** Paths of the finished files, in order. */
  readonly files: string[] = [];
  readonly spec: MultiAgentEnvSpec;
  readonly possibleAgents: readonly string[];
  getState?: () => EnvSnapshot;
  setState?: (snapshot: EnvSnapshot) => void;
  private readonly agentsHeader: EpisodeAgent[];
  private readonly learner: string | null;
  private writer: EpisodeFileWriter | null = null;
  private episodeIndex = 0;
  private pending: AgentDict<StepAnnotation> = {};
  /** The last finished file (null before the first). */
  lastFile: RecordedFile | null = null;

  constructor(
    readonly env: MultiAgentEnv<Obs, number>,
    private readonly options: RecordMultiAgentEpisodeOptions,
  ) {
    const where = `RecordMultiAgentEpisode(${env.spec.id})`;
    if (!options || typeof options.dir !== 'string' || options.dir === '') throw new InvalidConfigError(formatError(where, 'options.dir (a folder path)', describe(options?.dir), "pass { dir: 'runs/<id>/episodes' }"));
    if (typeof env.render !== 'function') throw new InvalidConfigError(formatError(where, 'a game with render() (episode files hold a frame per step)', `${env.spec.id} without render()`, 'record a game that draws itself'));
    const { controllers = {}, learner = null } = options;
    const problems: string[] = [];
    const unknown = Object.keys(controllers).filter((a) => !env.possibleAgents.includes(a));
    if (unknown.length) problems.push(`controllers for ${unknown.map((a) => describe(a)).join(', ')}, which ${unknown.length === 1 ? 'is not an agent' : 'are not agents'}`);
    for (const [a, c] of Object.entries(controllers)) if (typeof c !== 'string' || c.length > MAX_CONTROLLER_LENGTH) problems.push(`controller of ${a} ${describe(c)} (a label of at most ${MAX_CONTROLLER_LENGTH} characters)`);
    if (learner !== null && !env.possibleAgents.includes(learner)) problems.push(`learner ${describe(learner)}`);
    const notDiscrete = env.possibleAgents.filter((a) => env.actionSpace(a).type !== 'Discrete');
    if (notDiscrete.length) problems.push(`${notDiscrete.join(', ')} with non-Discrete actions (multi-agent episodes store Discrete actions)`);
    if (problems.length) throw new InvalidConfigError(formatError(where, `controllers and learner among the agents ${env.possibleAgents.join(', ')}, every agent with Discrete actions`, problems.join('; '), 'name agents from env.possibleAgents'));
    this.spec = env.spec;
    this.possibleAgents = env.possibleAgents;
    this.learner = learner;
    this.agentsHeader = env.possibleAgents.map((a) => ({
      name: a,
      actionNames: [...(env.spec.actionNames[a] ?? [])],
      actionSpace: env.actionSpace(a).toJSON(),
      observationSpace: env.observationSpace(a).toJSON(),
      controller: controllers[a] ?? 'unknown',
    }));
    if (typeof env.getState === 'function' && typeof env.setState === 'function') {
      this.getState = () => env.getState!();
      this.setState = (s) => env.setState!(s);
    }
  }

  get agents(): readonly string[] {
    return this.env.agents;
  }

  observationSpace(agent: string): Space<Obs> {
    return this.env.observationSpace(agent);
  }

  actionSpace(agent: string): Space<number> {
    return this.env.actionSpace(agent);
  }

  render(): RgbFrame {
    return this.env.render!();
  }

  /** Attaches what `agent`'s policy thought (Q-values, probabilities, value) to the next `step`. */
  annotateNext(agent: string, annotation: StepAnnotation): void {
    this.pending[agent] = annotation;
  }

  reset(args: ResetArgs = {}): MultiAgentResetResult<Obs> {
    this.finishEpisode();
    const stateBeforeReset = args.seed === undefined ? snapshot(this.env) : null;
    const r = this.env.reset(args);
    const index = this.episodeIndex++;
    const seed = args.seed ?? null;
    const o = this.options;
    const name = o.name ? o.name(index, seed) : episodeName({ source: gameSlug(this.spec.id), seed, index });
    const meta = typeof o.meta === 'function' ? o.meta(index) : (o.meta ?? {});
    this.writer = new EpisodeFileWriter({ path: join(o.dir, name + EPISODE_EXTENSION), keyframeInterval: o.keyframeInterval, compressionLevel: o.compressionLevel });
    const primary = this.agentsHeader.find((a) => a.name === this.learner) ?? this.agentsHeader[0]!;
    this.writer.begin(
      {
        // The multi-agent game's options hold its own step limit: the id and options rebuild it.
        game: { id: this.spec.id, options: { ...(this.spec.options ?? {}) }, maxEpisodeSteps: this.spec.maxEpisodeSteps ?? null },
        seed,
        resetOptions: args.options ?? null,
        stateBeforeReset,
        stateAtReset: snapshot(this.env),
        actionNames: primary.actionNames,
        observationSpace: primary.observationSpace,
        actionSpace: primary.actionSpace,
        agents: this.agentsHeader,
        learner: this.learner,
        meta,
      },
      this.env.render!(),
    );
    this.pending = {};
    return r;
  }

  step(actions: AgentDict<number>): MultiAgentStepResult<Obs> {
    const r = this.env.step(actions);
    const w = this.writer;
    if (w) {
      const annotations = this.pending;
      this.pending = {};
      w.stepAgents({ actions, rewards: r.rewards, terminated: r.terminated, truncated: r.truncated, frame: this.env.render!(), annotations });
      if (this.env.agents.length === 0) this.finishEpisode();
    }
    return r;
  }

  /** Finishes the file of an episode still in progress, then closes the game. */
  close(): void {
    this.finishEpisode();
    this.env.close();
  }

  /** Finishes the file of the episode in progress (if any) without closing the game. */
  finishEpisode(): RecordedFile | null {
    const w = this.writer;
    if (!w) return null;
    this.writer = null;
    const end = w.finish();
    this.files.push(end.path);
    const file = { path: end.path, bytes: end.bytes, steps: end.steps, return: end.return, terminated: end.terminated, truncated: end.truncated };
    this.lastFile = file;
    this.options.onEpisode?.(file);
    return file;
  }
}
