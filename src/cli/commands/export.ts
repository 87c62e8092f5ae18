import type { Command } from 'commander';
import { EXPORT_FORMATS, checkDecisionPeriod, checkExportFormat, exportPolicy, type ExportFormat } from '../../export/export-policy.js';
import { DEFAULT_LADDER_GAMES, LADDER_TARGET_WIN_RATE, checkLadderLevels, exportLadder, type LadderExportResult } from '../../export/ladder.js';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleToOnnx } from '../../export/onnx-export.js';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules } from '../imports.js';
import { CHECKPOINT_HELP, parseCheckpointStep } from './checkpoint-flag.js';

/** `npcforge export <run>`: writes a policy bundle (policy.json + model.json + weights.bin) for the runtime, and/or policy.onnx. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a trained run as a policy bundle for npcforge/runtime, and/or as policy.onnx (--format)')
    .argument('<run>', 'run folder (runs/...); with --format onnx also a policy bundle folder (policy.json + model.json), converted in place')
    .option('--checkpoint <step>', CHECKPOINT_HELP, parseCheckpointStep)
    .option('--out <dir>', 'output folder (default: <run>/policy)')
    .option('--format <f>', `what to write: ${EXPORT_FORMATS.join(', ')} (tfjs: policy.json + model.json + weights.bin for npcforge/runtime; onnx: policy.onnx for onnxruntime, Unity Sentis, Godot; all: both)`, (v: string) => checkExportFormat(v, '--format'), 'tfjs')
    .option('--decision-period <k>', 'game frames per decision: the runtime controller acts every k-th frame and repeats the action in between (default 1)', parseDecisionPeriod)
    .option('--json', 'print the policy.json written (with --ladder: the ladder.json)')
    .option('--ladder <n>', 'export a difficulty ladder of n >= 2 levels from a self-play run\'s pool (default out: <run>/ladder)', parseLadder)
    .option('--ladder-games <g>', `with --ladder: league games per pair of candidates before picking (0: pick by the training Elo)`, intArg('--ladder-games', 0), DEFAULT_LADDER_GAMES)
    .option('--ladder-candidates <c>', 'with --ladder: most pool snapshots in the league (default 2n; more are thinned evenly in step order)', intArg('--ladder-candidates', 2))
    .option('--ladder-names <list>', 'with --ladder: comma-separated level names, weakest first (default level-1..level-n; a ladder of 3 also answers to easy, medium, hard)', (v: string) => v.split(',').map((x) => x.trim()))
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .addHelpText('after', '\nWith --ladder: candidates = the pool snapshots of the checkpoint; they play a round-robin league\n(--ladder-games per pair) and the levels are the snapshots nearest to n ratings evenly spaced\nfrom the lowest to the highest, weakest first. See docs/export.md, "Difficulty ladders".\n\nWith --format onnx|all: policy.onnx (opset 13) takes obs [N, ...observation shape] (raw values, NHWC\nfor images; scaling in the graph) and, for LSTM policies, h_in/c_in; it returns q or logits/probs\nor mean, the greedy action, and h_out/c_out. See docs/export.md, "ONNX".')
    .action(async (runDir: string, f: { checkpoint?: number; out?: string; format: ExportFormat; decisionPeriod?: number; json?: boolean; ladder?: number; ladderGames: number; ladderCandidates?: number; ladderNames?: string[]; import: string[] }) => {
      await importModules(f.import);
      if (f.format === 'onnx' && existsSync(join(runDir, 'policy.json')) && !existsSync(join(runDir, 'config.json'))) {
        // A bundle exported earlier: its network and description are all there, no run needed.
        if (f.checkpoint !== undefined || f.decisionPeriod !== undefined) throw new InvalidConfigError(formatError('export', 'a run folder with --checkpoint or --decision-period', `the policy bundle ${describe(runDir)}`, 'convert the bundle without them, or export the run again with them'));
        if (f.out) mkdirSync(f.out, { recursive: true });
        const b = await bundleToOnnx(runDir, f.out);
        process.stdout.write(f.json ? JSON.stringify(b.policy) + '\n' : `wrote ${b.path} (${b.bytes} bytes) from the ${b.policy.game.id} ${b.policy.agent} bundle\n`);
        return;
      }
      await importRunModules(runDir);
      if (f.ladder !== undefined) {
        if (f.format !== 'tfjs') throw new InvalidConfigError(formatError('--format', 'tfjs with --ladder (ladders are tfjs bundles)', describe(f.format), 'export a ladder without --format, or export one run with --format onnx'));
        const r = await exportLadder({ runDir, levels: f.ladder, outDir: f.out, gamesPerPair: f.ladderGames, candidates: f.ladderCandidates, names: f.ladderNames, checkpoint: f.checkpoint, decisionPeriod: f.decisionPeriod });
        process.stdout.write(f.json ? JSON.stringify(r.file) + '\n' : formatLadderTable(r));
        return;
      }
      const r = await exportPolicy({ runDir, checkpoint: f.checkpoint, outDir: f.out, decisionPeriod: f.decisionPeriod, format: f.format });
      if (f.json) process.stdout.write(JSON.stringify(r.policy) + '\n');
      else {
        const files = [f.format !== 'onnx' ? `weights ${r.weightBytes} bytes` : null, r.onnxBytes !== null ? `policy.onnx ${r.onnxBytes} bytes` : null].filter(Boolean).join(', ');
        process.stdout.write(`exported ${r.policy.game.id} ${r.policy.agent} checkpoint ${r.policy.training.checkpoint} to ${r.outDir} (${files}, eval return ${r.policy.evalReturn ?? '-'})\n`);
      }
    });
}

/** Parses `--decision-period <k>`: an integer number of frames (checked by the exporter's rule). */
function parseDecisionPeriod(value: string): number {
  return checkDecisionPeriod(/^\s*\d+\s*$/.test(value) ? Number(value) : value, '--decision-period');
}

/** Parses `--ladder <n>`: an integer number of levels (checked by the exporter's rule). */
function parseLadder(value: string): number {
  return checkLadderLevels(/^\s*\d+\s*$/.test(value) ? Number(value) : value);
}

function intArg(flag: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(flag, `an integer >= ${min}`, describe(v), `pass e.g. ${flag} ${Math.max(min, 2) * 10}`));
    return n;
  };
}

/** The table `export --ladder` prints: one row per level, weakest first. */
export function formatLadderTable(r: LadderExportResult): string {
  const f = r.file;
  const head = `ladder of ${f.levels.length} levels for ${f.game} (${f.rating === 'league' ? `rated by a league of ${r.candidates.length} snapshots, ${f.gamesPerPair} games per pair` : 'rated by training Elo'}) in ${r.outDir}\n`;
  const width = Math.max(5, ...f.levels.map((l) => (l.name + (l.aliases.length ? ` (${l.aliases.join(', ')})` : '')).length));
  const rows = f.levels.map((l) => `${(l.name + (l.aliases.length ? ` (${l.aliases.join(', ')})` : '')).padEnd(width)} ${String(l.step).padStart(9)} ${l.elo.toFixed(1).padStart(7)} ${(l.winRateVsBelow === null ? '-' : `${(100 * l.winRateVsBelow).toFixed(1)}%`).padStart(12)}\n`);
  const close = f.levels.filter((l) => l.winRateVsBelow !== null && l.winRateVsBelow < LADDER_TARGET_WIN_RATE);
  // Not an error: the levels are still ordered by rating, but a player may not feel the step up.
  const note = close.length ? `note: ${close.map((l) => l.name).join(', ')} won less than ${100 * LADDER_TARGET_WIN_RATE}% of the league games against the level below; with fewer levels (--ladder ${Math.max(2, f.levels.length - 1)}) or a longer run the steps are larger\n` : '';
  return head + `${'level'.padEnd(width)} ${'step'.padStart(9)} ${'elo'.padStart(7)} ${'win vs below'.padStart(12)}\n` + rows.join('') + note;
}
