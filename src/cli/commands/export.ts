import type { Command } from 'commander';
import { checkDecisionPeriod, exportPolicy } from '../../export/export-policy.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules } from '../imports.js';
import { CHECKPOINT_HELP, parseCheckpointStep } from './checkpoint-flag.js';

/** `npcforge export <run>`: writes a policy bundle (policy.json + model.json + weights.bin) for the runtime. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a trained run as a policy bundle for npcforge/runtime')
    .argument('<run>', 'run folder (runs/...)')
    .option('--checkpoint <step>', CHECKPOINT_HELP, parseCheckpointStep)
    .option('--out <dir>', 'output folder (default: <run>/policy)')
    .option('--decision-period <k>', 'game frames per decision: the runtime controller acts every k-th frame and repeats the action in between (default 1)', parseDecisionPeriod)
    .option('--json', 'print the policy.json written')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (runDir: string, f: { checkpoint?: number; out?: string; decisionPeriod?: number; json?: boolean; import: string[] }) => {
      await importModules(f.import);
      await importRunModules(runDir);
      const r = await exportPolicy({ runDir, checkpoint: f.checkpoint, outDir: f.out, decisionPeriod: f.decisionPeriod });
      if (f.json) process.stdout.write(JSON.stringify(r.policy) + '\n');
      else process.stdout.write(`exported ${r.policy.game.id} ${r.policy.agent} checkpoint ${r.policy.training.checkpoint} to ${r.outDir} (weights ${r.weightBytes} bytes, eval return ${r.policy.evalReturn ?? '-'})\n`);
    });
}

/** Parses `--decision-period <k>`: an integer number of frames (checked by the exporter's rule). */
function parseDecisionPeriod(value: string): number {
  return checkDecisionPeriod(/^\s*\d+\s*$/.test(value) ? Number(value) : value, '--decision-period');
}
