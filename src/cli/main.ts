/**
 * The `npcforge` command. Thin: parses arguments and calls the library. Every subcommand lives in
 * `src/cli/commands/<name>.ts` and exports `register(program)`.
 */
import { Command, CommanderError, type HelpContext } from 'commander';
import { NpcforgeError, InvalidConfigError, UnknownEnvError, CheckpointError, DatasetError, GameModuleError, describe, formatError } from '../errors.js';
import { npcforgeVersion } from '../version.js';
import '../../games/index.js';
import { registerGames } from './commands/games.js';
import { registerStats } from './commands/stats.js';
import { registerPlay } from './commands/play.js';
import { registerRecord } from './commands/record.js';
import { registerReplay } from './commands/replay.js';
import { registerView } from './commands/view.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerLeague } from './commands/league.js';
import { registerExport } from './commands/export.js';
import { registerData } from './commands/data.js';
import { registerFit } from './commands/fit.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerPredict } from './commands/predict.js';
import { registerEmbeddings } from './commands/embeddings.js';
import { registerSweep } from './commands/sweep.js';
import { registerActor } from './commands/actor.js';

/** Errors that mean "the user asked for something invalid": exit code 2. */
function isUsageError(err: unknown): boolean {
  return err instanceof InvalidConfigError || err instanceof UnknownEnvError || err instanceof CheckpointError || err instanceof DatasetError || err instanceof GameModuleError;
}

/** Commander codes that end a run normally (help or version was asked for). */
const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** Folds a message onto one line: a raw newline inside (e.g. a JSON parse error) would break "one error, one line". */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** `npcforge stats` for a subcommand, `npcforge` for the root. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Rewrites one of commander's own errors (two lines: message + usage hint) as our one-line shape. */
function usageError(cmd: Command, err: CommanderError): InvalidConfigError {
  const path = commandPath(cmd);
  const fix = `run ${path} --help`;
  // Commander appends "(Did you mean ...?)" on its own line; keep it, on ours.
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const hint = rest.join(' ').trim();
  const quoted = (re: RegExp): string => re.exec(first)?.[1] ?? first;
  let expected: string;
  let received: string;
  switch (err.code) {
    case 'commander.missingArgument':
      expected = `the argument <${quoted(/'([^']+)'/)}> of ${path}`;
      received = 'none';
      break;
    case 'commander.missingMandatoryOptionValue':
      expected = `the option ${quoted(/'([^']+)'/)} of ${path}`;
      received = 'none';
      break;
    case 'commander.optionMissingArgument':
      expected = `a value after ${quoted(/'([^']+)'/)}`;
      received = 'none';
      break;
    case 'commander.unknownOption':
      expected = `an option of ${path}`;
      received = `${quoted(/'([^']+)'/)}${hint ? ` ${hint}` : ''}`;
      break;
    case 'commander.unknownCommand':
      expected = `a command (${cmd.commands.map((c) => c.name()).join(', ')})`;
      received = `${describe(quoted(/'([^']+)'/))}${hint ? ` ${hint}` : ''}`;
      break;
    case 'commander.excessArguments': {
      const m = /Expected (\d+) arguments? but got (\d+)/.exec(first);
      expected = m ? `${m[1]} argument${m[1] === '1' ? '' : 's'} for ${path}` : `the arguments of ${path}`;
      received = m ? `${m[2]}` : first;
      break;
    }
    default:
      expected = `valid arguments for ${path}`;
      received = oneLine(err.message.replace(/^error: /, ''));
  }
  return new InvalidConfigError(formatError('cli', expected, received, fix), { cause: err });
}

/**
 * Commander settings for every command: errors are thrown (not printed, not exiting) so that
 * `main` prints each as one line. Applied to the whole tree because `.command()` copies the
 * parent's settings only at creation, and `addCommand` copies none.
 */
function configureTree(cmd: Command): void {
  cmd
    .configureOutput({ outputError: () => undefined })
    .showHelpAfterError(false)
    .exitOverride((err) => {
      throw HELP_CODES.has(err.code) ? err : usageError(cmd, err);
    });
  if (cmd.commands.length > 0) {
    // A command group called without a subcommand (`npcforge`, `npcforge replay`): commander prints
    // the whole help to stderr as an error; say in one line what is missing instead.
    const help = cmd.help.bind(cmd);
    cmd.help = ((context?: HelpContext) => {
      if (context?.error === true) {
        throw new InvalidConfigError(formatError('cli', `a command (${cmd.commands.map((c) => c.name()).join(', ')})`, 'none', `run ${commandPath(cmd)} --help`));
      }
      return help(context);
    }) as typeof cmd.help;
  }
  for (const sub of cmd.commands) configureTree(sub);
}

/** The one line printed for an error that is not ours (a bug, or an unexpected system error). */
export function formatUnexpected(err: unknown): string {
  const what = err instanceof Error ? `${err.name}: ${oneLine(err.message)}` : oneLine(String(err));
  const line = `npcforge: unexpected error: ${what}\n`;
  if (process.env.NPCFORGE_DEBUG === '1' && err instanceof Error && err.stack) return line + err.stack + '\n';
  return line;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('npcforge')
    .description('Train NPC agents on pixel games, watch replays, embed trained policies.')
    .version(npcforgeVersion())
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  NPCFORGE_BACKEND=tensorflow|wasm|cpu  force a compute backend (default: the fastest present)',
        '  NPCFORGE_WASM_THREADS=n               threads of the wasm products (default: cores, at most 4)',
        '  NPCFORGE_DEBUG=1                      print the stack trace of unexpected errors',
      ].join('\n'),
    );
  registerGames(program);
  registerStats(program);
  registerPlay(program);
  registerRecord(program);
  registerReplay(program);
  registerView(program);
  registerTrain(program);
  registerEval(program);
  registerLeague(program);
  registerExport(program);
  registerData(program);
  registerFit(program);
  registerEvaluate(program);
  registerPredict(program);
  registerEmbeddings(program);
  registerSweep(program);
  registerActor(program);
  configureTree(program);
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
      // Only help and version get here (configureTree turns the rest into InvalidConfigError).
      return HELP_CODES.has(err.code) ? err.exitCode : 2;
    }
    if (err instanceof NpcforgeError) {
      process.stderr.write(`npcforge: ${oneLine(err.message)}\n`);
      return isUsageError(err) ? 2 : 1;
    }
    process.stderr.write(formatUnexpected(err));
    return 1;
  }
}
