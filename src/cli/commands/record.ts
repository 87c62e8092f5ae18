import { join } from 'node:path';
import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { make } from '../../envs/registry.js';
import { SeededRng } from '../../envs/rng.js';
import { parseFixedSequence } from '../../envs/fixed-sequence.js';
import { RecordEpisode } from '../../replay/episodes/record-episode.js';

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
  throw new InvalidConfigError(formatError('npcforge record', "--policy 'random' or 'fixed:<actions>'", describe(spec), 'policies from a trained run arrive with `npcforge train`; use random or fixed:<a,b,...> here'));
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `npcforge record <game>`: records episodes of a simple policy to .npcep files. */
export function registerRecord(program: Command): void {
  program
    .command('record <game>')
    .description('record episodes of a game to .npcep files (view them with `npcforge view`)')
    .option('--policy <policy>', "'random' or 'fixed:<a,b,...>' (action indices or names, cycled)", 'random')
    .option('--episodes <n>', 'number of episodes', '1')
    .option('--out <dir>', 'folder for the files (default runs/<game>__<policy>__s<seed>__<time>/episodes)')
    .option('--seed <s>', 'reset seed of the first episode; episode i uses seed + i', '0')
    .option('--max-steps <n>', 'cap episodes at this many steps (TimeLimit)')
    .option('--keyframe-interval <k>', "frames per chunk (a seek decodes at most k frames), or 'auto'", 'auto')
    .action((game: string, flags: RecordFlags) => {
      const episodes = parseIntFlag('episodes', flags.episodes, 1);
      const seed = parseIntFlag('seed', flags.seed, 0);
      const keyframeInterval = flags.keyframeInterval === 'auto' ? 'auto' : parseIntFlag('keyframe-interval', flags.keyframeInterval, 1);
      const makeOptions = flags.maxSteps === undefined ? {} : { maxEpisodeSteps: parseIntFlag('max-steps', flags.maxSteps, 1) };
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
