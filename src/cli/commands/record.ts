import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { make } from '../../envs/registry.js';
import { SeededRng } from '../../envs/rng.js';
import { parseFixedSequence } from '../../envs/fixed-sequence.js';
import { RecordEpisode } from '../../replay/episodes/record-episode.js';
import { recordPolicyEpisode } from '../../replay/episodes/record-policy.js';
import { loadRunAgent } from '../../train/runner.js';
import type { ObsArray } from '../../envs/env.js';

interface RecordFlags {
  policy: string;
  episodes: string;
  out?: string;
  seed: string;
  maxSteps?: string;
  keyframeInterval: string;
}

type Policy = (t: number) => number;

function parseIntFlag(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidConfigError(formatError('npcforge record', `--${name} to be an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
  return n;
}

/** `random` samples the action space; `fixed:<seq>` cycles through a sequence (see parseFixedSequence). */
function parsePolicy(spec: string, actionNames: string[], sample: () => number): Policy {
  if (spec === 'random') return () => sample();
  if (spec.startsWith('fixed:')) {
    const seq = parseFixedSequence(spec.slice('fixed:'.length), actionNames, 'npcforge record');
    return (t) => seq[t % seq.length]!;
  }
  throw new InvalidConfigError(formatError('npcforge record', "--policy 'random' or 'fixed:<actions>'", describe(spec), 'pass random, fixed:<seq>, or the folder of a run made by `npcforge train`'));
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Records greedy episodes of a trained run's latest checkpoint, annotated with its Q-values or probabilities. */
async function recordRunPolicy(
  game: string,
  runDir: string,
  o: { episodes: number; seed: number; keyframeInterval: number | 'auto'; makeOptions: Record<string, unknown>; out?: string },
): Promise<void> {
  const { agent, run, step } = await loadRunAgent(runDir);
  try {
    if (run.game !== game) throw new InvalidConfigError(formatError('npcforge record', `a run of ${describe(game)}`, `a run of ${describe(run.game)} (${runDir})`, `record ${run.game}, or pass a run of ${game}`));
    const dir = o.out ?? join(runDir, 'episodes');
    const rng = new SeededRng(o.seed);
    for (let e = 0; e < o.episodes; e++) {
      const env = make<ObsArray, number>(game, { ...run.run.envOptions, ...o.makeOptions });
      let state: unknown;
      const starts = new Float32Array(1).fill(1);
      try {
        const f = await recordPolicyEpisode({
          env,
          dir,
          name: `record-step${step}-s${o.seed + e}`,
          seed: o.seed + e,
          keyframeInterval: o.keyframeInterval,
          meta: { run: basename(runDir), agentStep: step, episode: e },
          policy: async (obs) => {
            const res = await agent.act(obs, { numEnvs: 1, epsilon: 0, rng, withValues: true, ...(agent.recurrent ? { episodeStarts: starts } : {}) }, state);
            state = res.state;
            starts[0] = 0;
            const info = res.info.probs ? { probs: Array.from(res.info.probs), value: res.info.value?.[0] } : res.info.values ? { q: Array.from(res.info.values) } : {};
            return { action: res.actions[0]!, info };
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

/** `npcforge record <game>`: records episodes of a simple policy to .npcep files. */
export function registerRecord(program: Command): void {
  program
    .command('record <game>')
    .description('record episodes of a game to .npcep files (view them with `npcforge view`)')
    .option('--policy <policy>', "'random', 'fixed:<seq>' (action initials/digits, or names/indices separated by commas; cycled), or a run folder of `npcforge train` (its latest checkpoint, greedy)", 'random')
    .option('--episodes <n>', 'number of episodes', '1')
    .option('--out <dir>', 'folder for the files (default runs/<game>__<policy>__s<seed>__<time>/episodes)')
    .option('--seed <s>', 'reset seed of the first episode; episode i uses seed + i', '0')
    .option('--max-steps <n>', 'cap episodes at this many steps (TimeLimit)')
    .option('--keyframe-interval <k>', "frames per chunk (a seek decodes at most k frames), or 'auto'", 'auto')
    .action(async (game: string, flags: RecordFlags) => {
      const episodes = parseIntFlag('episodes', flags.episodes, 1);
      const seed = parseIntFlag('seed', flags.seed, 0);
      const keyframeInterval = flags.keyframeInterval === 'auto' ? 'auto' : parseIntFlag('keyframe-interval', flags.keyframeInterval, 1);
      const makeOptions = flags.maxSteps === undefined ? {} : { maxEpisodeSteps: parseIntFlag('max-steps', flags.maxSteps, 1) };
      if (existsSync(join(flags.policy, 'config.json'))) {
        await recordRunPolicy(game, flags.policy, { episodes, seed, keyframeInterval, makeOptions, out: flags.out });
        return;
      }
      const env = make<unknown, number>(game, makeOptions);
      const rng = new SeededRng(seed);
      const policy = parsePolicy(flags.policy, env.spec.actionNames, () => env.actionSpace.sample(rng));
      const policyTag = flags.policy === 'random' ? 'random' : 'fixed';
      const dir = flags.out ?? join('runs', `${game.replace(/\//g, '_')}__${policyTag}__s${seed}__${stamp()}`, 'episodes');
      const rec = new RecordEpisode(env, {
        dir,
        keyframeInterval,
        name: (i, s) => `${game.replace(/\//g, '_')}-s${s}-e${String(i).padStart(3, '0')}`,
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
