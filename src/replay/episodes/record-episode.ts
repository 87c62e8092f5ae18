/**
 * RecordEpisode wrapper: writes every episode of the wrapped env to `<dir>/<name>.npcep`.
 * It lives in src/replay (which owns the file format and may import src/envs) rather than in
 * src/envs/wrappers, so that src/envs stays free of msgpackr, fflate and node:fs.
 */
import { join } from 'node:path';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { Wrapper, canRender, drawFrame, renderUnavailable, type Env, type EnvSnapshot, type ResetArgs, type ResetResult, type StepResult } from '../../envs/env.js';
import { Box } from '../../envs/spaces.js';
import type { StepAnnotation } from './format.js';
import { EPISODE_EXTENSION, episodeActionLayout } from './format.js';
import type { EpisodeAction } from './encoder.js';
import { EpisodeFileWriter } from './writer.js';
import { episodeName, gameSlug } from './episode-name.js';

export interface RecordEpisodeOptions {
  /** Folder the episode files go to (created when missing). */
  dir: string;
  /** File name without extension of the n-th episode (0-based); default `<prefix>-s<seed>-e<n, 3 digits>` (see episode-name.ts). */
  name?: (episodeIndex: number, seed: number | null) => string;
  /** Prefix of the default names (default: the env id with `/` replaced by `-`). */
  prefix?: string;
  /** Frames per chunk, or 'auto' (default): see EpisodeEncoderOptions. */
  keyframeInterval?: number | 'auto';
  /** Deflate level 0-9 (default 9). */
  compressionLevel?: number;
  /** JSON-safe metadata stored in each file's header (run id, policy, agent step, ...). */
  meta?: Record<string, unknown> | ((episodeIndex: number) => Record<string, unknown>);
  /** Called before each step is written; returns what the agent thought (alternative to `annotateNext`). */
  annotate?: (stepIndex: number) => StepAnnotation | undefined;
  /** Called with every finished file. */
  onEpisode?: (file: RecordedFile) => void;
  /**
   * Also store every frame's observation (the obs reset and step return, i.e. what the policy
   * reads), so that the viewer can compute saliency maps from it; default false. Needs a Box
   * observation space; costs file size (little for grid games, more for frame-stacked pixels).
   */
  observations?: boolean;
}

/** A finished recording. */
export interface RecordedFile {
  path: string;
  bytes: number;
  steps: number;
  return: number;
  terminated: boolean;
  truncated: boolean;
}

function innermost(env: Env<unknown, unknown>): Env<unknown, unknown> {
  let e = env;
  while (e instanceof Wrapper) e = e.env as Env<unknown, unknown>;
  return e;
}

function snapshot(env: Env<unknown, unknown>): EnvSnapshot | null {
  if (typeof env.getState !== 'function') return null;
  try {
    // A JSON round trip detaches the snapshot from the live env and drops what JSON cannot hold.
    return JSON.parse(JSON.stringify(env.getState())) as EnvSnapshot;
  } catch {
    // Some envs refuse getState() before their first reset; the header then records null and the
    // episode is replayable from its seed only (verifyEpisode says so when there is none).
    return null;
  }
}

/**
 * Records each episode (frames from `render()`, actions, rewards, flags, optional annotations).
 * Actions: an index (Discrete), a row of part indices (MultiDiscrete) or of floats (float32 Box).
 */
export class RecordEpisode<Obs, Act extends EpisodeAction = number> extends Wrapper<Obs, Act> {
  /** Paths of the finished files, in order. */
  readonly files: string[] = [];
  private readonly options: RecordEpisodeOptions;
  private writer: EpisodeFileWriter | null = null;
  private episodeIndex = 0;
  private pending: StepAnnotation | undefined;

  constructor(env: Env<Obs, Act>, options: RecordEpisodeOptions) {
    super(env);
    if (!options || typeof options.dir !== 'string' || options.dir === '') {
      throw new InvalidConfigError(formatError('RecordEpisode', 'options.dir (a folder path)', describe(options?.dir), "pass { dir: 'runs/<id>/episodes' }"));
    }
    // Checked here, before a reset opens a file that could then not be written.
    const layout = episodeActionLayout(env.actionSpace.toJSON());
    if (typeof layout === 'string') {
      throw new InvalidConfigError(formatError('RecordEpisode', layout, `${env.spec.id} with ${env.actionSpace.type} actions`, 'record a game with Discrete, MultiDiscrete or float32 Box actions (see `npcforge games`)'));
    }
    // Episode files hold a frame per step: a game that cannot draw cannot be recorded.
    if (!canRender(env as Env<unknown, unknown>)) throw renderUnavailable(env.spec.id);
    this.options = options;
  }

  /** Attaches an annotation (Q-values, probabilities, value) to the next `step`. */
  annotateNext(annotation: StepAnnotation): void {
    this.pending = annotation;
  }

  override reset(args: ResetArgs = {}): ResetResult<Obs> {
    this.finishEpisode();
    const inner = innermost(this.env as Env<unknown, unknown>);
    const stateBeforeReset = args.seed === undefined ? snapshot(inner) : null;
    const r = this.env.reset(args);
    const spec = this.env.spec;
    const index = this.episodeIndex++;
    const prefix = this.options.prefix ?? gameSlug(spec.id);
    const seed = args.seed ?? null;
    const name = this.options.name ? this.options.name(index, seed) : episodeName({ source: prefix, seed, index });
    const meta = typeof this.options.meta === 'function' ? this.options.meta(index) : (this.options.meta ?? {});
    this.writer = new EpisodeFileWriter({ path: join(this.options.dir, name + EPISODE_EXTENSION), keyframeInterval: this.options.keyframeInterval, compressionLevel: this.options.compressionLevel });
    this.writer.begin(
      {
        game: { id: spec.id, options: { ...(spec.options ?? {}) }, maxEpisodeSteps: spec.maxEpisodeSteps ?? null },
        seed,
        resetOptions: args.options ?? null,
        stateBeforeReset,
        stateAtReset: snapshot(inner),
        actionNames: [...spec.actionNames],
        observationSpace: this.env.observationSpace.toJSON(),
        actionSpace: this.env.actionSpace.toJSON(),
        meta,
      },
      drawFrame(this.env),
      this.options.observations ? (r.obs as ArrayLike<number>) : undefined,
    );
    this.pending = undefined;
    return r;
  }

  override step(action: Act): StepResult<Obs> {
    // Box actions are stored as float32: the env gets exactly those values, so the recording replays.
    const sent = this.env.actionSpace instanceof Box && !(action instanceof Float32Array) ? (Float32Array.from(action as ArrayLike<number>) as unknown as Act) : action;
    const r = this.env.step(sent);
    const w = this.writer;
    if (w) {
      const annotation = this.pending ?? this.options.annotate?.(w.stepsRecorded);
      this.pending = undefined;
      w.step({ action: sent, reward: r.reward, terminated: r.terminated, truncated: r.truncated, frame: drawFrame(this.env), annotation, ...(this.options.observations ? { obs: r.obs as ArrayLike<number> } : {}) });
      if (r.terminated || r.truncated) this.finishEpisode();
    }
    return r;
  }

  /** Finishes the file of an episode still in progress, then closes the env. */
  override close(): void {
    this.finishEpisode();
    this.env.close();
  }

  /** Finishes the file of the episode in progress (if any) without closing the env. */
  finishEpisode(): void {
    const w = this.writer;
    if (!w) return;
    this.writer = null;
    const end = w.finish();
    this.files.push(end.path);
    this.options.onEpisode?.({ path: end.path, bytes: end.bytes, steps: end.steps, return: end.return, terminated: end.terminated, truncated: end.truncated });
  }
}
