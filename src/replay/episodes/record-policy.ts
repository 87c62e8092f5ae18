/**
 * `recordPolicyEpisode`: the hook a runner calls to record one evaluation episode of an agent. The
 * policy returns the action and, optionally, the agent info the viewer shows (Q-values, action
 * probabilities, value estimate). Accepts sync and async policies (tfjs reads are async).
 */
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import type { Env } from '../../envs/env.js';
import type { StepAnnotation } from './format.js';
import type { EpisodeAction } from './encoder.js';
import { RecordEpisode, type RecordedFile } from './record-episode.js';
import type { RecordMultiAgentEpisode } from './record-multi-agent.js';

/** What a policy returns for one observation. */
export interface PolicyDecision {
  /** An index (Discrete), or a row of part indices (MultiDiscrete) or floats (Box). */
  action: EpisodeAction;
  /** Agent info; `q`, `probs` and `value` are recorded when present and well-formed. */
  info?: Record<string, unknown>;
}

export type RecordingPolicy<Obs> = (obs: Obs, step: number) => PolicyDecision | Promise<PolicyDecision>;

export interface RecordPolicyEpisodeOptions<Obs> {
  /** The env to play (recorded as is: its `spec` names the game for replay). */
  env: Env<Obs, EpisodeAction> | Env<Obs, number>;
  policy: RecordingPolicy<Obs>;
  /** Folder of the file, e.g. `runs/<id>/episodes`. */
  dir: string;
  /** File name without `.npcep`. */
  name: string;
  /** Reset seed (recorded; makes the episode replayable). */
  seed?: number;
  /** Stop after this many steps even if the env does not end the episode. */
  maxSteps?: number;
  /** JSON-safe metadata for the header (e.g. `{ agentStep, run }`). */
  meta?: Record<string, unknown>;
  /** Frames per chunk, or 'auto' (default): see EpisodeEncoderOptions. */
  keyframeInterval?: number | 'auto';
  /** Store every frame's observation for saliency (single-agent only; see RecordEpisodeOptions.observations). */
  observations?: boolean;
  /**
   * A multi-agent episode instead: `env` is one seat (`asSingleAgent`) of the game that `recorder`
   * wraps and records (its own dir, name and meta apply; those above are ignored); the policy's
   * annotations go to `seat`.
   */
  multiAgent?: { recorder: RecordMultiAgentEpisode<Obs>; seat: string };
}

const isNumbers = (v: unknown): v is ArrayLike<number> =>
  (Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array) && Array.from(v as ArrayLike<unknown>).every((x) => typeof x === 'number' && Number.isFinite(x));

/** Picks the viewer annotation out of an agent's act() info. */
export function annotationFromInfo(info: Record<string, unknown> | undefined, nActions: number): StepAnnotation | undefined {
  if (!info) return undefined;
  const out: StepAnnotation = {};
  if (isNumbers(info.q) && info.q.length === nActions) out.q = info.q;
  if (isNumbers(info.probs) && info.probs.length === nActions) out.probs = info.probs;
  if (typeof info.value === 'number' && Number.isFinite(info.value)) out.value = info.value;
  return out.q || out.probs || out.value !== undefined ? out : undefined;
}

/** Plays and records one episode; resolves with the finished file. The env is not closed. */
export async function recordPolicyEpisode<Obs>(options: RecordPolicyEpisodeOptions<Obs>): Promise<RecordedFile> {
  const { env, policy, dir, name, seed, maxSteps = Infinity, meta, keyframeInterval, observations } = options;
  if (typeof policy !== 'function') throw new InvalidConfigError(formatError('recordPolicyEpisode', 'a policy function', describe(policy), 'pass (obs, step) => ({ action, info })'));
  let file: RecordedFile | undefined;
  const ma = options.multiAgent;
  const single = ma ? null : new RecordEpisode(env as Env<Obs, EpisodeAction>, { dir, name: () => name, meta, keyframeInterval, observations, onEpisode: (f) => (file = f) });
  const rec = single ?? (env as Env<Obs, EpisodeAction>);
  const nA = env.spec.actionNames.length;
  let obs = rec.reset(seed === undefined ? {} : { seed }).obs;
  for (let t = 0; t < maxSteps; t++) {
    const d = await policy(obs, t);
    const ann = annotationFromInfo(d.info, nA);
    if (ann) (single ? single.annotateNext(ann) : ma!.recorder.annotateNext(ma!.seat, ann));
    const r = rec.step(d.action);
    obs = r.obs;
    if (r.terminated || r.truncated) break;
  }
  // Finishes an episode cut by maxSteps (or by the seat's end, the game going on for others) without closing the caller's env.
  if (single) single.finishEpisode();
  else file = ma!.recorder.finishEpisode() ?? ma!.recorder.lastFile ?? undefined;
  return file!;
}
