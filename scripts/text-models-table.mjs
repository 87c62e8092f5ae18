// Summarises the runs of bench/text-models.sh: per data set and model, the held-out accuracy of
// every seed, the mean, min-max and sample standard deviation. Usage: node scripts/text-models-table.mjs <runs dir> [--json out]
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.data/text/runs';
const jsonOut = process.argv.indexOf('--json') > 0 ? process.argv[process.argv.indexOf('--json') + 1] : null;
const groups = new Map();
for (const name of readdirSync(dir).sort()) {
  const m = /^(\w+)-(.+)-s(\d+)$/.exec(name);
  const file = join(dir, name, 'evaluation.json');
  if (!m || !existsSync(file)) continue;
  const key = `${m[1]}\t${m[2]}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push({ seed: Number(m[3]), accuracy: JSON.parse(readFileSync(file, 'utf8')).accuracy });
}
const rows = [];
console.log('| set | model | seeds | accuracy per seed (%) | mean | min-max | std |');
console.log('|---|---|---|---|---|---|---|');
for (const [key, runs] of groups) {
  runs.sort((a, b) => a.seed - b.seed);
  const acc = runs.map((r) => r.accuracy * 100);
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  const std = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1)) : 0;
  const [set, model] = key.split('\t');
  rows.push({ set, model, seeds: runs.map((r) => r.seed), accuracy: acc, mean, min: Math.min(...acc), max: Math.max(...acc), std });
  console.log(`| ${set} | ${model} | ${runs.map((r) => r.seed).join(',')} | ${acc.map((a) => a.toFixed(2)).join(' ')} | ${mean.toFixed(2)} | ${Math.min(...acc).toFixed(2)}-${Math.max(...acc).toFixed(2)} | ${std.toFixed(2)} |`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(rows, null, 2) + '\n');
