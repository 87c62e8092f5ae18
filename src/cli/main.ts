/**
 * The `npcforge` command. Thin: parses arguments and calls the library. Every subcommand lives in
 * `src/cli/commands/<name>.ts` and exports `register(program)`.
 */
import { Command, CommanderError } from 'commander';
import { NpcforgeError, InvalidConfigError, UnknownEnvError, CheckpointError, DatasetError } from '../errors.js';
import '../../games/index.js';
import { registerGames } from './commands/games.js';
import { registerStats } from './commands/stats.js';
import { registerPlay } from './commands/play.js';
import { registerRecord } from './commands/record.js';
import { registerReplay } from './commands/replay.js';
import { registerView } from './commands/view.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerExport } from './commands/export.js';
import { registerData } from './commands/data.js';
import { registerFit } from './commands/fit.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerPredict } from './commands/predict.js';

/** Errors that mean "the user asked for something invalid": exit code 2. */
function isUsageError(err: unknown): boolean {
  return err instanceof InvalidConfigError || err instanceof UnknownEnvError || err instanceof CheckpointError || err instanceof DatasetError;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('npcforge')
    .description('Train NPC agents on pixel games, watch replays, embed trained policies.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  NPCFORGE_BACKEND=tensorflow|wasm|cpu  force a compute backend (default: the fastest present)',
        '  NPCFORGE_WASM_THREADS=n               threads of the wasm products (default: cores, at most 4)',
      ].join('\n'),
    )
    .exitOverride();
  registerGames(program);
  registerStats(program);
  registerPlay(program);
  registerRecord(program);
  registerReplay(program);
  registerView(program);
  registerTrain(program);
  registerEval(program);
  registerExport(program);
  registerData(program);
  registerFit(program);
  registerEvaluate(program);
  registerPredict(program);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting (tests call it directly). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command may end with a non-zero code without an error (train stopped by a signal: 128 + signal).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof NpcforgeError) {
      process.stderr.write(`npcforge: ${err.message}\n`);
      return isUsageError(err) ? 2 : 1;
    }
    process.stderr.write(`npcforge: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
