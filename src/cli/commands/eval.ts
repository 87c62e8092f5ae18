import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import type { Env, ObsArray } from '../../envs/env.js';
import { make } from '../../envs/registry.js';
import { evaluate, summarise } from '../../train/evaluate.js';
import { loadRunAgent } from '../../train/runner.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules } from '../imports.js';
import { CHECKPOINT_HELP, parseCheckpointStep } from './checkpoint-flag.js';
import { OPPONENT_HELP, SEATS_HELP, evalAgainstOpponent } from './opponent-eval.js';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

/** `npcforge eval <run>`: evaluates a run's best weights (else its latest checkpoint, or a chosen one). */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a trained run')
    .argument('<run>', 'run folder (runs/...)')
    .option('--episodes <n>', 'episodes to play', intFlag('episodes', 1), 100)
    .option('--seed <n>', 'seed of the evaluation episodes', intFlag('seed', 0), 12345)
    .option('--checkpoint <step>', CHECKPOINT_HELP, parseCheckpointStep)
    .option('--epsilon <x>', 'exploration rate (default: the run\'s evalEpsilon)')
    .option('--opponent <who>', OPPONENT_HELP)
    .option('--seats <list>', SEATS_HELP)
    .option('--record <n>', 'with --opponent: also record the first n matches as episode files (to <run>/episodes, or --out)', intFlag('record', 0))
    .option('--out <dir>', 'with --record: folder for the episode files')
    .option('--json', 'print one JSON object')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (runDir: string, f: { episodes: number; seed: number; checkpoint?: number; epsilon?: string; opponent?: string; seats?: string; json?: boolean; record?: number; out?: string; import: string[] }) => {
      await importModules(f.import);
      if (f.opponent === undefined && (f.record !== undefined || f.out !== undefined)) throw new InvalidConfigError(formatError('npcforge eval', '--record and --out only with --opponent', f.record !== undefined ? `--record ${f.record}` : `--out ${describe(f.out)}`, 'add --opponent bot|random|<run>[:step], or record single-agent episodes with npcforge record <game> --policy <run>'));
      // Before the run's own modules: with --opponent, <run> may name a step (<run>:<step>).
      if (f.opponent !== undefined) return evalAgainstOpponent(runDir, { ...f, opponent: f.opponent });
      if (f.seats !== undefined) throw new InvalidConfigError(formatError('--seats', 'an --opponent to play the other seats', '--seats without --opponent', 'add --opponent random, bot or <run>[:step]'));
      await importRunModules(runDir);
      const { agent, run, step, best } = await loadRunAgent(runDir, f.checkpoint);
      try {
        let epsilon = (run.agentConfig.evalEpsilon as number | undefined) ?? 0;
        if (f.epsilon !== undefined) {
          epsilon = Number(f.epsilon);
          if (!(epsilon >= 0 && epsilon <= 1)) throw new InvalidConfigError(formatError('--epsilon', 'a number in [0, 1]', describe(f.epsilon), 'pass e.g. --epsilon 0.001'));
        }
        const res = await evaluate(agent, { makeEnv: () => make(run.game, run.run.envOptions) as Env<ObsArray, number>, episodes: f.episodes, baseSeed: f.seed, epsilon });
        const s = summarise(res);
        if (f.json) process.stdout.write(JSON.stringify(s) + '\n');
        else process.stdout.write(`${run.game} ${run.agent} ${best ? `best weights (step ${step})` : `checkpoint ${step}`}: ${s.episodes} episodes, return ${s.mean_return.toFixed(3)} +- ${s.std_return.toFixed(3)} (min ${s.min_return}, max ${s.max_return}), mean length ${s.mean_length.toFixed(1)}\n`);
      } finally {
        agent.dispose();
      }
    });
}
