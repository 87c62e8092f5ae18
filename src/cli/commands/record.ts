import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { make } from '../../envs/registry.js';
import { SeededRng } from '../../envs/rng.js';
import { Discrete } from '../../envs/spaces.js';
import { actionAt, actionWidth } from '../../envs/actions.js';
import type { EpisodeAction } from '../../replay/episodes/encoder.js';
import { episodeActionLayout } from '../../replay/episodes/format.js';
import { parseFixedSequence } from '../../envs/fixed-sequence.js';
import { RecordEpisode } from '../../replay/episodes/record-episode.js';
import { recordPolicyEpisode } from '../../replay/episodes/record-policy.js';
import { loadRunAgent } from '../../train/runner.js';
import { runFolderName } from '../../train/run-folder.js';
import { episodeName, gameSlug } from '../../replay/episodes/episode-name.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules, requireGame } from '../imports.js';
import { CHECKPOINT_HELP, parseCheckpointStep } from './checkpoint-flag.js';
import { canRender, renderUnavailable, type Env, type ObsArray } from '../../envs/env.js';
import { parseRunRef } from '../../train/selfplay/match.js';
import { readRunFile } from '../../train/run-folder.js';
import { recordAgainstOpponent } from './opponent-eval.js';

interface RecordFlags {
  policy: string;
  opponent?: string;
  checkpoint?: number;
  episodes: string;
  out?: string;
  seed: string;
  maxSteps?: string;
  keyframeInterval: string;
  /** false with --no-observations. */
  observations: boolean;
  import: string[];
}

type Policy = (t: number) => EpisodeAction;

function parseIntFlag(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidConfigError(formatError('npcforge record', `--${name} to be an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
  return n;
}

/** `random` samples the action space; `fixed:<seq>` cycles through a sequence of Discrete actions (see parseFixedSequence). */
function parsePolicy(spec: string, actionNames: string[], sample: () => EpisodeAction, discrete: boolean): Policy {
  if (spec === 'random') return () => sample();
  if (spec.startsWith('fixed:')) {
    if (!discrete) throw new InvalidConfigError(formatError('npcforge record', "--policy 'random' or a run folder for a game without Discrete actions", describe(spec), 'fixed:<seq> names Discrete actions; pass random, or the folder of a run made by `npcforge train`'));
    const seq = parseFixedSequence(spec.slice('fixed:'.length), actionNames, 'npcforge record');
    return (t) => seq[t % seq.length]!;
  }
  throw new InvalidConfigError(formatError('npcforge record', "--policy 'random' or 'fixed:<actions>'", describe(spec), 'pass random, fixed:<seq>, or the folder of a run made by `npcforge train`'));
}

/** Records greedy episodes of a trained run (best weights, else the latest or the chosen checkpoint), annotated with its Q-values or probabilities. */
async function recordRunPolicy(
  game: string,
  runDir: string,
  o: { episodes: number; seed: number; checkpoint?: number; keyframeInterval: number | 'auto'; makeOptions: Record<string, unknown>; out?: string; observations: boolean },
): Promise<void> {
  const { agent, run, step } = await loadRunAgent(runDir, o.checkpoint);
  try {
    if (run.game !== game) throw new InvalidConfigError(formatError('npcforge record', `a run of ${describe(game)}`, `a run of ${describe(run.game)} (${runDir})`, `record ${run.game}, or pass a run of ${game}`));
    const dir = o.out ?? join(runDir, 'episodes');
    const rng = new SeededRng(o.seed);
    for (let e = 0; e < o.episodes; e++) {
      const env = make<ObsArray, EpisodeAction>(game, { ...run.run.envOptions, ...o.makeOptions });
      const width = actionWidth(env.actionSpace);
      let state: unknown;
      const starts = new Float32Array(1).fill(1);
      try {
        const f = await recordPolicyEpisode({
          env,
          dir,
          name: episodeName({ source: `record-step${step}`, seed: o.seed + e, index: e }),
          seed: o.seed + e,
          keyframeInterval: o.keyframeInterval,
          // The network's own input, for the viewer's saliency overlay (multi-agent games have no Box space per seat to store).
          observations: o.observations && env.observationSpace.type === 'Box',
          meta: { run: basename(runDir), agentStep: step, episode: e },
          policy: async (obs) => {
            const res = await agent.act(obs, { numEnvs: 1, mode: 'eval', rng, withValues: true, ...(agent.recurrent ? { episodeStarts: starts } : {}) }, state);
            state = res.state;
            starts[0] = 0;
            const info = res.info.probs ? { probs: Array.from(res.info.probs), value: res.info.value?.[0] } : res.info.values ? { q: Array.from(res.info.values) } : {};
            return { action: actionAt(res.actions, 0, width, env.actionSpace) as EpisodeAction, info };
          },
        });
        process.stdout.write(`${f.path}  steps ${f.steps}  return ${f.return}  ${(f.bytes / 1024).toFixed(1)} KB\n`);
      } finally {
        env.close();
      }
    }
  } finally {
    agent.dispose();
  }
}

/**
 * `record <run>[:step] --opponent <who>`, or `record <game> --policy <run> --opponent <who>`: the
 * run's matches against the opponent, recorded (see recordAgainstOpponent).
 */
async function recordOpponentMatches(target: string, flags: RecordFlags, o: { episodes: number; seed: number; keyframeInterval: number | 'auto' }): Promise<void> {
  const isRunRef = (ref: string): boolean => existsSync(join(parseRunRef(ref).runDir, 'config.json'));
  const usage = 'pass the run folder: npcforge record <run> --opponent bot|random|<run>[:step]';
  if (flags.maxSteps !== undefined) throw new InvalidConfigError(formatError('npcforge record --opponent', 'no --max-steps (matches end as the game ends them)', `--max-steps ${describe(flags.maxSteps)}`, 'drop --max-steps'));
  let run: string;
  if (flags.policy !== 'random' && isRunRef(flags.policy)) {
    run = flags.policy;
    const game = readRunFile(parseRunRef(run).runDir).game;
    if (game !== target) throw new InvalidConfigError(formatError('npcforge record --opponent', `a run of ${describe(target)}`, `a run of ${describe(game)} (${parseRunRef(run).runDir})`, `record ${game}, or pass a run of ${target}`));
  } else if (flags.policy === 'random' && isRunRef(target)) run = target;
  else throw new InvalidConfigError(formatError('npcforge record --opponent', 'a trained run (a folder with config.json) to play the matches', `${describe(target)}${flags.policy === 'random' ? '' : ` with --policy ${describe(flags.policy)}`}`, usage));
  await recordAgainstOpponent(run, { opponent: flags.opponent!, episodes: o.episodes, seed: o.seed, checkpoint: flags.checkpoint, out: flags.out, keyframeInterval: o.keyframeInterval });
}

/** `npcforge record <game>`: records episodes of a simple policy to .npcep files. */
export function registerRecord(program: Command): void {
  program
    .command('record <game>')
    .description('record episodes of a game to .npcep files (view them with `npcforge view`); `record <run> --opponent <who>` records a trained run\'s matches on a multi-agent game')
    .option('--policy <policy>', "'random', 'fixed:<seq>' (action initials/digits, or names/indices separated by commas; cycled), or a run folder of `npcforge train` (greedy; its best-evaluated weights in <run>/best/ when present, else its latest checkpoint; see --checkpoint)", 'random')
    .option('--checkpoint <step>', `with --policy <run>: ${CHECKPOINT_HELP}`, parseCheckpointStep)
    .option('--opponent <who>', "multi-agent games: the run (<game> given as a run folder, or --policy <run>) plays bot (the game's scripted opponent; a single-agent episode of that game), random, or another run (<run>[:step]); every seat's actions and the agents' values are recorded (default folder: <run>/episodes)")
    .option('--episodes <n>', 'number of episodes', '1')
    .option('--out <dir>', 'folder for the files (default: <run>/episodes for --policy <run>, else runs/<game>__<policy>__s<seed>__<time>/episodes)')
    .option('--seed <s>', 'reset seed of the first episode; episode i uses seed + i', '0')
    .option('--max-steps <n>', 'cap episodes at this many steps (TimeLimit)')
    .option('--keyframe-interval <k>', "frames per chunk (a seek decodes at most k frames), or 'auto'", 'auto')
    .option('--no-observations', 'with --policy <run>: do not store the observation of every frame (stored by default: the viewer computes saliency maps from them)')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (game: string, flags: RecordFlags) => {
      const episodes = parseIntFlag('episodes', flags.episodes, 1);
      const seed = parseIntFlag('seed', flags.seed, 0);
      const keyframeInterval = flags.keyframeInterval === 'auto' ? 'auto' : parseIntFlag('keyframe-interval', flags.keyframeInterval, 1);
      const makeOptions = flags.maxSteps === undefined ? {} : { maxEpisodeSteps: parseIntFlag('max-steps', flags.maxSteps, 1) };
      const imports = await importModules(flags.import);
      if (flags.opponent !== undefined) return recordOpponentMatches(game, flags, { episodes, seed, keyframeInterval });
      const isRun = existsSync(join(flags.policy, 'config.json'));
      if (isRun) imports.push(...(await importRunModules(flags.policy)));
      requireGame(game, imports);
      if (isRun) {
        await recordRunPolicy(game, flags.policy, { episodes, seed, checkpoint: flags.checkpoint, keyframeInterval, makeOptions, out: flags.out, observations: flags.observations });
        return;
      }
      if (flags.checkpoint !== undefined) throw new InvalidConfigError(formatError('npcforge record', '--checkpoint only with --policy <run folder>', `--policy ${describe(flags.policy)}`, 'drop --checkpoint, or pass the folder of a run made by `npcforge train`'));
      const env = make<unknown, EpisodeAction>(game, makeOptions);
      // Checked before the recorder opens a file: failing at the first step left a .partial file behind.
      const layout = episodeActionLayout(env.actionSpace.toJSON());
      if (typeof layout === 'string') {
        env.close();
        throw new InvalidConfigError(formatError('npcforge record', 'a game with Discrete, MultiDiscrete or float32 Box actions (what episode files store)', `${game} with ${env.actionSpace.type} actions`, 'record another game (see `npcforge games`)'));
      }
      if (!canRender(env as Env<unknown, unknown>)) {
        env.close();
        throw renderUnavailable(game);
      }
      const rng = new SeededRng(seed);
      let policy: Policy;
      try {
        policy = parsePolicy(flags.policy, env.spec.actionNames, () => env.actionSpace.sample(rng), env.actionSpace instanceof Discrete);
      } catch (err) {
        env.close();
        throw err;
      }
      const policyTag = flags.policy === 'random' ? 'random' : 'fixed';
      // The same folder names as `npcforge train` (runs/<game>__<agent>__s<seed>__<time>), the policy in the agent's place.
      const dir = flags.out ?? join('runs', runFolderName(game, policyTag, seed, new Date()), 'episodes');
      const rec = new RecordEpisode(env, {
        dir,
        keyframeInterval,
        name: (index, s) => episodeName({ source: gameSlug(game), seed: s, index }),
        meta: (i) => ({ policy: flags.policy, episode: i }),
        onEpisode: (f) => process.stdout.write(`${f.path}  steps ${f.steps}  return ${f.return}  ${(f.bytes / 1024).toFixed(1)} KB\n`),
      });
      for (let e = 0; e < episodes; e++) {
        rec.reset({ seed: seed + e });
        for (let t = 0; ; t++) {
          const r = rec.step(policy(t));
          if (r.terminated || r.truncated) break;
        }
      }
      rec.close();
    });
}
