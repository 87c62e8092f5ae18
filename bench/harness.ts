/** Shared helpers of the benchmarks: argument parsing, repeat-and-median timing, table and JSON output. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../src/errors.js';

/** A benchmark module: `run(argv)` prints its table and returns the JSON-able result. */
export interface Bench {
  /** One-line description for `npm run bench -- --help`. */
  description: string;
  run(args: BenchArgs): Promise<unknown>;
}

export interface BenchArgs {
  /** `--json <file>`: where to write the result, if anywhere. */
  json?: string;
  /** `--flag value` pairs besides --json (flags without a value map to 'true'). */
  flags: Record<string, string>;
}

/** Parses `--json out.json --repeats 5 --quick` style arguments. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new InvalidConfigError(formatError('bench', '--flag [value] arguments', describe(a), 'pass e.g. --json out.json --repeats 5'));
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags[a.slice(2)] = next;
      i++;
    } else {
      flags[a.slice(2)] = 'true';
    }
  }
  const { json, ...rest } = flags;
  return { json, flags: rest };
}

/** Reads a positive number flag with a default. */
export function numberFlag(args: BenchArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new InvalidConfigError(formatError('bench', `--${name} to be a positive number`, describe(v), `pass e.g. --${name} ${fallback}`));
  return n;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs `batch()` (which does `work` units and returns) until `seconds` have passed, `repeats`
 * times after one warm-up; returns units per second of each repeat.
 */
export async function measureRate(batch: () => number | Promise<number>, opts: { seconds: number; repeats: number }): Promise<number[]> {
  return (await measureRateAndCpu(batch, opts)).rates;
}

/**
 * `measureRate`, plus the process CPU time (all threads) per unit of each repeat: on a loaded
 * machine wall-clock rates drop with the load, CPU time per unit much less.
 */
export async function measureRateAndCpu(batch: () => number | Promise<number>, opts: { seconds: number; repeats: number }): Promise<{ rates: number[]; cpuMsPerUnit: number[] }> {
  const once = async (): Promise<{ rate: number; cpuMs: number }> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let units = 0;
    let elapsed = 0;
    while (elapsed < opts.seconds * 1000) {
      units += await batch();
      elapsed = performance.now() - t0;
    }
    const c = process.cpuUsage(c0);
    return { rate: units / (elapsed / 1000), cpuMs: (c.user + c.system) / 1000 / units };
  };
  await once(); // warm-up: JIT, caches
  const rates: number[] = [];
  const cpuMsPerUnit: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const { rate, cpuMs } = await once();
    rates.push(rate);
    cpuMsPerUnit.push(cpuMs);
  }
  return { rates, cpuMsPerUnit };
}

/** Prints rows as an aligned text table. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  process.stdout.write([line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n');
}

/** Machine facts stored with every JSON result. */
export function machine(): Record<string, unknown> {
  return { node: process.version, platform: `${process.platform}-${process.arch}`, cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism() };
}

/** Writes the result as JSON when `--json <file>` was given. */
export function writeJson(args: BenchArgs, name: string, result: unknown): void {
  if (!args.json) return;
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, JSON.stringify({ bench: name, date: new Date().toISOString(), machine: machine(), result }, null, 2) + '\n');
  process.stdout.write(`wrote ${args.json}\n`);
}

/** 1234567.8 -> "1,234,568". */
export function formatRate(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/** The repository root (the folder of package.json above this file, from bench/ or dist/bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
