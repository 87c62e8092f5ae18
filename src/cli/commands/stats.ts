import type { Command } from 'commander';
import { InvalidConfigError, UnknownEnvError, formatError, describe } from '../../errors.js';
import { isRegistered, listEnvs, make } from '../../envs/registry.js';
import { SeededRng } from '../../envs/rng.js';
import { Discrete } from '../../envs/spaces.js';
import { parseFixedSequence } from '../../envs/fixed-sequence.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, requireGame } from '../imports.js';
import { runEpisodes, summarize, type EpisodePolicy, type SampleSummary } from '../../envs/episode-stats.js';

/** The JSON printed by `npcforge stats --json`. */
export interface StatsReport {
  game: string;
  policy: string;
  n_episodes: number;
  n_truncated: number;
  return: SampleSummary;
  length: SampleSummary;
}

export interface StatsOptions {
  game: string;
  /** `random` or `fixed:<seq>`. */
  policy: string;
  episodes: number;
  /** Seed of the first reset and of the random policy (default 0). */
  seed?: number;
  onEpisode?: (done: number) => void;
}

function bad(expected: string, received: string, fix: string): never {
  throw new InvalidConfigError(formatError('stats', expected, received, fix));
}

/** Runs the episodes and computes the report (the CLI prints it). */
export function computeStats(opts: StatsOptions): StatsReport {
  const { game, policy } = opts;
  if (!isRegistered(game)) make(game); // throws UnknownEnvError listing the known ids
  if (!Number.isInteger(opts.episodes) || opts.episodes < 1) bad('--episodes to be a positive integer', describe(opts.episodes), 'pass e.g. --episodes 100');
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) bad('--seed to be an integer in [0, 2^32)', describe(seed), 'pass e.g. --seed 1');
  let act: EpisodePolicy;
  let env;
  if (policy === 'random') {
    env = make<unknown, number>(game);
    const rng = new SeededRng(seed);
    const space = env.actionSpace;
    act = () => space.sample(rng);
  } else if (policy.startsWith('fixed:')) {
    // MinAtar-style games register minimalActions; open-loop letters address the full action set.
    const defaults = listEnvs().find((e) => e.id === game)?.options ?? {};
    env = make<unknown, number>(game, 'minimalActions' in defaults ? { minimalActions: false } : {});
    if (!(env.actionSpace instanceof Discrete)) bad('a game with a Discrete action space for fixed:', env.actionSpace.type, 'use --policy random');
    const actions = parseFixedSequence(policy.slice('fixed:'.length), env.spec.actionNames, 'stats');
    const start = (env.actionSpace as Discrete).start;
    act = (_obs, t) => start + actions[t % actions.length]!;
  } else {
    bad("--policy 'random' or 'fixed:<seq>'", describe(policy), 'pass e.g. --policy random or --policy fixed:lsr');
  }
  try {
    const records = runEpisodes(env, act, { episodes: opts.episodes, seed, onEpisode: opts.onEpisode });
    return {
      game,
      policy,
      n_episodes: records.length,
      n_truncated: records.filter((r) => r.truncated).length,
      return: summarize(records.map((r) => r.return)),
      length: summarize(records.map((r) => r.length)),
    };
  } finally {
    env.close();
  }
}

function parseInteger(flag: string, value: string, want: string, example: string): number {
  if (!/^\d+$/.test(value)) bad(`${flag} to be ${want}`, describe(value), `pass e.g. ${flag} ${example}`);
  return Number(value);
}

function fmt(v: number | null): string {
  if (v === null) return '-';
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

/** `npcforge stats <game> --policy random|fixed:<seq> --episodes N [--seed S] [--json]`. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('run episodes with a simple policy and print return and length statistics')
    .argument('<game>', 'registered game id (see `npcforge games`)')
    .requiredOption('--policy <policy>', "'random' (uniform, seeded) or 'fixed:<seq>' (open-loop action initials or digits, restarted each episode)")
    .requiredOption('--episodes <n>', 'number of episodes')
    .option('--seed <s>', 'seed of the first reset and of the random policy', '0')
    .option('--json', 'print one JSON object')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (game: string, o: { policy: string; episodes: string; seed: string; json?: boolean; import: string[] }) => {
      const episodes = parseInteger('--episodes', o.episodes, 'a positive integer', '100');
      const seed = parseInteger('--seed', o.seed, 'an integer in [0, 2^32)', '1');
      const imports = await importModules(o.import);
      if (imports.length) requireGame(game, imports);
      if (!isRegistered(game)) {
        const known = listEnvs().map((e) => e.id).join(', ');
        throw new UnknownEnvError(formatError('stats', `a registered game (${known})`, describe(game), 'run `npcforge games` for the list, or pass --import <module> that registers it'));
      }
      const tty = process.stderr.isTTY === true;
      const startedAt = Date.now();
      let lastPrint = startedAt;
      const onEpisode = tty
        ? (done: number): void => {
            const now = Date.now();
            if (now - lastPrint < 500 && done < episodes) return;
            lastPrint = now;
            if (now - startedAt > 1000) process.stderr.write(`\rstats: ${done}/${episodes} episodes`);
          }
        : undefined;
      const report = computeStats({ game, policy: o.policy, episodes, seed, onEpisode });
      if (tty && Date.now() - startedAt > 1000) process.stderr.write('\n');
      if (o.json) {
        process.stdout.write(JSON.stringify(report) + '\n');
        return;
      }
      const keys = ['mean', 'std', 'sem', 'median', 'p05', 'p95', 'min', 'max'] as const;
      const rows = (['return', 'length'] as const).map((row) => [row, ...keys.map((k) => fmt(report[row][k]))]);
      // Wide values (pendulum returns such as -1208.049) must not run into their neighbours.
      const width = Math.max(9, ...rows.flat().map((c) => c.length + 2));
      const lines = [
        `${report.game}  policy ${report.policy}  ${report.n_episodes} episodes (${report.n_truncated} truncated)`,
        ['', ...keys].map((k) => k.padStart(width)).join(''),
        ...rows.map((cells) => cells.map((c) => c.padStart(width)).join('')),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
