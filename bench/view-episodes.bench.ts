/**
 * Episode list benchmark: `/api/runs/<run>/episodes` of `view <folder>` on `--files` episodes of
 * `--steps` CartPole steps each (full-resolution frames): the first (cold) listing reads each
 * file's header and end record; repeated ones come from the cache; for scale, the time to read
 * every file whole with the episode reader (what a list of returns would cost without the summary).
 * Run: `node dist/bench/view-episodes.bench.js [--files 200] [--steps 1000] [--repeats 5]`.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../games/index.js';
import { make } from '../src/envs/registry.js';
import { EpisodeFileWriter, readEpisode } from '../src/replay/episodes/index.js';
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

const files = flag('files', 200);
const steps = flag('steps', 1000);
const repeats = flag('repeats', 5);
const root = mkdtempSync(join(tmpdir(), 'npcforge-view-eps-bench-'));
try {
  const env = make<Float32Array, number>('cartpole', { maxEpisodeSteps: null, orderEnforcing: false });
  env.reset({ seed: 1 });
  let inner: any = env;
  while (inner.env) inner = inner.env;
  const first = join(root, 'ep-0.npcep');
  const w = new EpisodeFileWriter({ path: first });
  w.begin({ game: { id: 'cartpole', options: env.spec.options ?? {}, maxEpisodeSteps: null }, seed: 1, resetOptions: null, stateBeforeReset: null, stateAtReset: inner.getState(), actionNames: env.spec.actionNames, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, env.render!());
  for (let t = 0; t < steps; t++) {
    const a = Math.floor(t / 3) % 2;
    const r = env.step(a);
    w.step({ action: a, reward: r.reward, terminated: false, truncated: false, frame: env.render!() });
  }
  w.finish();
  const past = new Date(Date.now() - 60_000);
  for (let i = 0; i < files; i++) {
    const p = join(root, `ep-${i}.npcep`);
    if (i > 0) copyFileSync(first, p);
    utimesSync(p, past, past);
  }
  const bytes = statSync(first).size;
  const server = await startViewerServer({ root, port: 0 });
  const name = JSON.parse(await get(server.port, '/api/source')).name as string;
  const list = async (): Promise<number> => {
    const t0 = performance.now();
    const rows = JSON.parse(await get(server.port, `/api/runs/${encodeURIComponent(name)}/episodes`)) as Array<{ summary?: unknown }>;
    if (rows.length !== files || rows.some((r) => !r.summary)) throw new Error('listing incomplete');
    return performance.now() - t0;
  };
  const cold = await list();
  const warm: number[] = [];
  for (let i = 0; i < repeats; i++) warm.push(await list());
  await server.close();
  const t0 = performance.now();
  for (let i = 0; i < files; i++) readEpisode(new Uint8Array(readFileSync(join(root, `ep-${i}.npcep`))));
  const whole = performance.now() - t0;
  warm.sort((a, b) => a - b);
  process.stdout.write(
    `view episode list, ${files} episodes of ${steps} CartPole steps (${(bytes / 1024).toFixed(0)} KB each): ` +
      `cold ${cold.toFixed(1)} ms, cached median ${warm[Math.floor(warm.length / 2)]!.toFixed(1)} ms (of ${repeats}); ` +
      `reading every file whole instead ${whole.toFixed(1)} ms\n`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
