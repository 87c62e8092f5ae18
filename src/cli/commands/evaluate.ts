import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatReport } from '../../supervised/metrics.js';

/** `npcforge evaluate <run> [--data dir] [--json]`: scores the held-out test split. */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score a supervised run on <data>/test (default: the data it was trained on)')
    .argument('<run>', 'run folder written by `npcforge fit`')
    .option('--data <dir>', 'data folder whose test/ split is scored')
    .option('--json', 'print one JSON object (accuracy, per_class, confusion)')
    .action(async (runDir: string, opts: { data?: string; json?: boolean }) => {
      const { SupervisedRun } = await import('../../supervised/run.js');
      const run = await SupervisedRun.load(runDir);
      try {
        const report = await run.evaluate(opts.data);
        await writeFile(join(runDir, 'evaluation.json'), JSON.stringify({ data: opts.data ?? run.info.data, ...report }, null, 2) + '\n');
        process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
      } finally {
        run.dispose();
      }
    });
}
