import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { RECURRENT_LSTM_UNITS, readConfigFile, resolveRunConfig, type RunSettings } from '../../train/run-config.js';
import { train } from '../../train/runner.js';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

interface TrainFlags {
  agent?: string;
  preset?: string;
  steps?: number;
  seed?: number;
  envs?: number;
  config?: string;
  out?: string;
  resume?: string;
  saveReplay?: boolean;
  progress?: boolean;
  recurrent?: boolean;
}

/** `npcforge train <game>`: trains (or resumes) a run; Ctrl-C writes a final checkpoint. */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an agent on a game (runs/<game>__<agent>__s<seed>__<time>/)')
    .argument('[game]', 'registered game id (see `npcforge games`)')
    .option('--agent <name>', 'agent: dqn, ppo, a2c, reinforce (default: the game\'s default, dqn)')
    .option('--recurrent', `an LSTM between encoder and heads (DRQN for dqn; default ${RECURRENT_LSTM_UNITS} units or the game's recurrent preset)`)
    .option('--preset <name>', 'hyperparameter preset (dqn: minatar, rainbow-lite, classic)')
    .option('--steps <n>', 'total env steps', intFlag('steps', 1))
    .option('--seed <n>', 'seed of envs, weights and exploration', intFlag('seed', 0))
    .option('--envs <k>', 'sub-envs stepped together', intFlag('envs', 1))
    .option('--config <file>', 'JSON file of settings over the preset')
    .option('--out <dir>', 'parent folder of the run folder (default runs)')
    .option('--resume <run>', 'continue a run folder from its latest checkpoint')
    .option('--save-replay', 'include the replay memory in checkpoints (exact resume)')
    .option('--no-progress', 'no progress output')
    .action(async (game: string | undefined, f: TrainFlags) => {
      let stop = false;
      const onSigint = (): void => {
        stop = true;
      };
      process.on('SIGINT', onSigint);
      try {
        
        if (f.resume) {
          const extra = (['agent', 'preset', 'seed', 'envs', 'config', 'out', 'saveReplay', 'recurrent'] as const).filter((k) => f[k] !== undefined);
          if (game !== undefined || extra.length) throw new InvalidConfigError(formatError('train --resume', 'only --steps next to --resume', [game && `game ${game}`, ...extra.map((k) => `--${k}`)].filter(Boolean).join(', '), 'drop them: a resumed run keeps its config'));
          await train({ resume: f.resume, steps: f.steps, shouldStop: () => stop, progress: f.progress === false ? null : undefined });
        } else {
          if (!game) throw new InvalidConfigError(formatError('train', 'a game id', 'none', 'run e.g. `npcforge train catch`'));
          const flags: Partial<RunSettings> = { steps: f.steps, seed: f.seed, envs: f.envs, saveReplay: f.saveReplay };
          const file = f.config ? readConfigFile(f.config) : undefined;
          const config = resolveRunConfig({ game, agent: f.agent, preset: f.preset, file, flags, recurrent: f.recurrent === true });
          await train({ config, outDir: f.out, shouldStop: () => stop, progress: f.progress === false ? null : undefined });
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
