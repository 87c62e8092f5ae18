import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { DEFAULT_VIEWER_HOST, startViewerServer } from '../../render/server.js';

import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules } from '../imports.js';

export const DEFAULT_VIEWER_PORT = 7070;

/** `npcforge view [runs-dir]`: serves the replay viewer until interrupted. */
export function registerView(program: Command): void {
  program
    .command('view [runs-dir]')
    .description('watch recorded episodes and learning curves in the browser')
    .option('--port <p>', 'TCP port (0 = any free port)', String(DEFAULT_VIEWER_PORT))
    .option('--host <h>', 'interface to bind; the default serves this machine only', DEFAULT_VIEWER_HOST)
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (runsDir: string | undefined, flags: { port: string; host: string; import: string[] }) => {
      await importModules(flags.import);
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidConfigError(formatError('npcforge view', '--port in [0, 65535]', describe(flags.port), 'pass e.g. --port 7070'));
      const server = await startViewerServer({ root: runsDir ?? 'runs', port, host: flags.host });
      process.stdout.write(`npcforge view: serving ${runsDir ?? 'runs'} at ${server.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          void server.close().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
