import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { DEFAULT_VIEWER_HOST, startViewerServer } from '../../render/server.js';

import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules } from '../imports.js';

export const DEFAULT_VIEWER_PORT = 7070;

/** `npcforge view [path]`: serves the replay viewer until interrupted. */
export function registerView(program: Command): void {
  program
    .command('view [path]')
    .description('watch recorded episodes, learning curves and supervised runs in the browser')
    .addHelpText(
      'after',
      `
<path> (default: runs) is one of:
  a folder of runs       every run folder in it (npcforge train and npcforge fit runs)
  a run folder           that run alone (it holds config.json, run.json, metrics.jsonl or episodes/)
  a folder of .npcep     its episode files as one list, however they were made
                         (e.g. npcforge record <game> --policy <run> --out <dir>)
  a .npcep file          that episode alone

Examples:
  npcforge view runs
  npcforge view episodes/catch
  npcforge view runs/catch__dqn__s0__20260101-120000/episodes/eval-step10000-s1000-e000.npcep`,
    )
    .option('--port <p>', 'TCP port (0 = any free port)', String(DEFAULT_VIEWER_PORT))
    .option('--host <h>', 'interface to bind; the default serves this machine only', DEFAULT_VIEWER_HOST)
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (path: string | undefined, flags: { port: string; host: string; import: string[] }) => {
      await importModules(flags.import);
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidConfigError(formatError('npcforge view', '--port in [0, 65535]', describe(flags.port), 'pass e.g. --port 7070'));
      const server = await startViewerServer({ root: path ?? 'runs', port, host: flags.host });
      process.stdout.write(`npcforge view: serving ${path ?? 'runs'} at ${server.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          void server.close().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
