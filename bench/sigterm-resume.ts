/**
 * Acceptance check of training durability (not CI): `npcforge train catch` is SIGTERMed at a random
 * moment (start-up included), then resumed, `--runs` times in a row on the same run; finally the
 * run is resumed to a clean finish. Passes when every signalled process either wrote its checkpoint
 * and exited 143, or died before start-up had installed the handlers (nothing to save yet), every
 * resume found an intact checkpoint at or after the previous one, no lock or temp folder was left,
 * and the final metrics.jsonl steps are exactly logEvery, 2 logEvery, ... (no gap, no duplicate).
 * Run after `node scripts/build.mjs`: `npm run bench -- sigterm-resume [--runs 20] [--seed 1] [--keep]`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRng } from '../src/envs/rng.js';
import { LOCK_FILE, listCheckpoints } from '../src/train/run-folder.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench/ -> the package root's bin/.
const cli = join(here, '..', '..', 'bin', 'npcforge.js');

const LOG_EVERY = 50;
const SETTINGS = { learningStarts: 100, batchSize: 16, bufferSize: 5000, checkpointEvery: 100, logEvery: LOG_EVERY, evalEvery: 1000, evalEpisodes: 2, saveReplay: true };
/** SIGTERM lands uniformly in this window after spawn (ms): start-up, the loop, evaluations, checkpoints. */
const KILL_WINDOW_MS: [number, number] = [300, 8000];

interface Outcome {
  kind: 'checkpointed' | 'before-start' | 'finished' | 'failed';
  code: number | null;
  signal: NodeJS.Signals | null;
  step: number | null;
  stderr: string;
}

function flag(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const n = Number(argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} expects a whole number, received ${argv[i + 1]}`);
  return n;
}

/** Runs the CLI; SIGTERMs it after `killAfterMs` (null = let it finish). */
function runCli(args: string[], killAfterMs: number | null): Promise<Outcome> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGTERM'), killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      let step: number | null = null;
      try {
        step = (JSON.parse(stdout) as { step: number }).step;
      } catch {
        step = null;
      }
      const interruptedLine = /npcforge: interrupted at step \d+; checkpoint \S+; continue with --resume \S+\n/.test(stderr);
      let kind: Outcome['kind'] = 'failed';
      if (code === 143 && interruptedLine && step !== null) kind = 'checkpointed';
      else if (signal === 'SIGTERM' && code === null) kind = 'before-start';
      else if (code === 0 && step !== null) kind = 'finished';
      done({ kind, code, signal, step, stderr });
    });
  });
}

/** The run folder under `out`, or null before the first run created it. */
function findRun(out: string): string | null {
  if (!existsSync(out)) return null;
  const subs = readdirSync(out);
  return subs.length ? join(out, subs[0]!) : null;
}

async function main(argv: string[]): Promise<number> {
  const runs = flag(argv, 'runs', 20);
  const rng = new SeededRng(flag(argv, 'seed', 1));
  const dir = mkdtempSync(join(tmpdir(), 'npcforge-sigterm-'));
  const out = join(dir, 'runs');
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(SETTINGS));
  const t0 = Date.now();
  const counts: Record<Outcome['kind'], number> = { checkpointed: 0, 'before-start': 0, finished: 0, failed: 0 };
  const problems: string[] = [];
  let lastStep = 0;
  for (let i = 0; i < runs; i++) {
    const runDir = findRun(out);
    const args = runDir ? ['train', '--resume', runDir, '--no-progress', '--json'] : ['train', 'catch', '--config', join(dir, 'cfg.json'), '--steps', '10000000', '--out', out, '--no-progress', '--json'];
    const delay = Math.round(KILL_WINDOW_MS[0] + rng.random() * (KILL_WINDOW_MS[1] - KILL_WINDOW_MS[0]));
    const o = await runCli(args, delay);
    counts[o.kind]++;
    const after = findRun(out);
    process.stderr.write(`run ${String(i + 1).padStart(2)}: SIGTERM after ${delay} ms -> ${o.kind}${o.step !== null ? ` at step ${o.step}` : ''}\n`);
    if (o.kind === 'failed' || o.kind === 'finished') problems.push(`run ${i + 1}: ${o.kind} (code ${o.code}, signal ${o.signal}): ${o.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    if (o.kind === 'checkpointed') {
      if (o.step! < lastStep) problems.push(`run ${i + 1}: stopped at step ${o.step}, before the previous checkpoint ${lastStep}`);
      lastStep = o.step!;
    }
    if (after) {
      const steps = listCheckpoints(after);
      if (o.kind === 'checkpointed' && steps.at(-1) !== o.step) problems.push(`run ${i + 1}: newest checkpoint ${steps.at(-1)}, expected ${o.step}`);
      if (existsSync(join(after, LOCK_FILE))) problems.push(`run ${i + 1}: ${LOCK_FILE} left behind`);
      const temps = readdirSync(join(after, 'checkpoints')).filter((n) => n.startsWith('.'));
      if (o.kind === 'checkpointed' && temps.length) problems.push(`run ${i + 1}: temp folders left: ${temps.join(', ')}`);
    }
  }
  const runDir = findRun(out);
  let finalSteps: number[] = [];
  if (!runDir) problems.push('no run folder after all runs (every run was killed during start-up)');
  else {
    const total = (Math.floor(lastStep / LOG_EVERY) + 2) * LOG_EVERY;
    const fin = await runCli(['train', '--resume', runDir, '--steps', String(total), '--no-progress', '--json'], null);
    if (fin.kind !== 'finished' || fin.step !== total) problems.push(`final resume: ${fin.kind} at step ${fin.step} (code ${fin.code}): ${fin.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    finalSteps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    const bad = finalSteps.findIndex((s, k) => s !== (k + 1) * LOG_EVERY);
    if (bad >= 0) problems.push(`metrics.jsonl: line ${bad + 1} has step ${finalSteps[bad]}, expected ${(bad + 1) * LOG_EVERY} (gap or duplicate)`);
    if (finalSteps.at(-1) !== total) problems.push(`metrics.jsonl ends at step ${finalSteps.at(-1)}, expected ${total}`);
  }
  const seconds = (Date.now() - t0) / 1000;
  const summary = { runs, ...counts, finalStep: finalSteps.at(-1) ?? null, metricsLines: finalSteps.length, seconds: Math.round(seconds * 10) / 10, ok: problems.length === 0 };
  for (const p of problems) process.stderr.write(`problem: ${p}\n`);
  process.stdout.write(`sigterm-resume: ${runs} SIGTERMs: ${counts.checkpointed} checkpointed and exited 143, ${counts['before-start']} during start-up (before the handlers), ${counts.failed} failed, ${counts.finished} finished early; final run ${finalSteps.length} metrics lines to step ${summary.finalStep}, ${problems.length ? 'FAIL' : 'no gap or duplicate'}; ${summary.seconds} s\n`);
  process.stdout.write(JSON.stringify(summary) + '\n');
  if (argv.includes('--keep')) process.stderr.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
  return problems.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
