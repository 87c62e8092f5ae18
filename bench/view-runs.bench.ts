/**
 * View server listing benchmark: `/api/runs` on a runs folder of `--runs` runs x `--episodes`
 * episodes (empty files, mtimes set a minute back as for finished runs): the first (cold) listing,
 * then repeated ones served from the per-run cache, then one after a single run changed.
 * Run: `node dist/bench/view-runs.bench.js [--runs 500] [--episodes 20] [--repeats 5]`.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startViewerServer } from '../src/render/server.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function get(port: number, path: string): Promise<string> {
  return new Promise((ok, no) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => ok(Buffer.concat(parts).toString()));
    });
    req.on('error', no);
    req.end();
  });
}

async function timed(port: number): Promise<number> {
  const t0 = performance.now();
  await get(port, '/api/runs');
  return performance.now() - t0;
}

const runs = flag('runs', 500);
const episodes = flag('episodes', 20);
const repeats = flag('repeats', 5);
const root = mkdtempSync(join(tmpdir(), 'npcforge-view-bench-'));
try {
  const past = new Date(Date.now() - 60_000);
  for (let r = 0; r < runs; r++) {
    const dir = join(root, `run-${r}`);
    mkdirSync(join(dir, 'episodes'), { recursive: true });
    for (let e = 0; e < episodes; e++) writeFileSync(join(dir, 'episodes', `ep-${e}.npcep`), '');
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    utimesSync(join(dir, 'episodes'), past, past);
    utimesSync(dir, past, past);
  }
  const server = await startViewerServer({ root, port: 0 });
  const cold = await timed(server.port);
  const warm: number[] = [];
  for (let i = 0; i < repeats; i++) warm.push(await timed(server.port));
  writeFileSync(join(root, 'run-0', 'episodes', 'new.npcep'), '');
  const changed = await timed(server.port);
  await server.close();
  warm.sort((a, b) => a - b);
  process.stdout.write(`view /api/runs, ${runs} runs x ${episodes} episodes: cold ${cold.toFixed(1)} ms, cached median ${warm[Math.floor(warm.length / 2)]!.toFixed(1)} ms (of ${repeats}), after one run changed ${changed.toFixed(1)} ms\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
