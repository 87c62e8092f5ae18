/**
 * `npcforge view <folder|file.npcep>`: what the server serves for a folder of episodes, a single
 * episode file and a run folder, the return and length of every listed episode (header and end
 * record only, cached), and the summary reader over hostile files under a memory cap.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import { SeededRng } from '../../src/envs/rng.js';
import { EpisodeFileWriter, RecordEpisode, readEpisodeFile } from '../../src/replay/episodes/index.js';
import { summarizeEpisode, SUMMARY_HEAD_BYTES, SUMMARY_TAIL_BYTES } from '../../src/replay/episodes/summary.js';
import { EpisodeSummaries } from '../../src/render/episode-summaries.js';
import { startViewerServer, type EpisodeRow, type RunSummary, type ViewerServer } from '../../src/render/server.js';
import { hostileEpisodes } from '../replay/episodes/hostile-episodes.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcview-src-'));
const folder = join(tmp, 'my episodes');
const SECRET = 'TOP-SECRET-CONTENT';
const servers: ViewerServer[] = [];

function get(server: ViewerServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, no) => {
    const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('latin1') }));
    });
    req.on('error', no);
    req.end();
  });
}
const getJson = async <T>(server: ViewerServer, path: string): Promise<T> => JSON.parse((await get(server, path)).body) as T;

async function serve(root: string): Promise<ViewerServer> {
  const s = await startViewerServer({ root, port: 0, assetsDir: join(tmp, 'no-assets') });
  servers.push(s);
  return s;
}

/** Records one catch episode named `name` into `dir` with a seeded random policy. */
function record(dir: string, name: string, seed: number): string {
  const rec = new RecordEpisode(make<unknown, number>('catch'), { dir, name: () => name });
  const rng = new SeededRng(seed);
  rec.reset({ seed });
  for (;;) {
    const r = rec.step(rng.int(0, 3));
    if (r.terminated || r.truncated) break;
  }
  rec.close();
  return rec.files[0]!;
}

beforeAll(() => {
  // Names as train writes them: text order would put step10000 before step2500.
  for (const [i, n] of ['eval-step10000-s7-e000', 'eval-step2500-s7-e001', 'eval-step2500-s7-e000'].entries()) record(folder, n, i + 1);
  const good = readFileSync(join(folder, 'eval-step2500-s7-e000.npcep'));
  writeFileSync(join(folder, 'cut.npcep'), good.subarray(0, good.length - 10));
  writeFileSync(join(folder, 'notes.npcep'), `${SECRET} not an episode`);
  // Files next to the episodes that a folder of episodes must not expose.
  writeFileSync(join(folder, 'metrics.jsonl'), `{"step":1,"secret":"${SECRET}"}\n`);
  writeFileSync(join(folder, 'run.json'), `{"secret":"${SECRET}"}`);
  mkdirSync(join(tmp, 'run', 'episodes'), { recursive: true });
  copyFileSync(join(folder, 'eval-step2500-s7-e000.npcep'), join(tmp, 'run', 'episodes', 'a.npcep'));
  writeFileSync(join(tmp, 'run', 'metrics.jsonl'), '{"step":1,"mean_return":0.5}\n');
  writeFileSync(join(tmp, 'run', 'config.json'), '{}');
});

afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('view <folder of .npcep files>', () => {
  it('serves the folder as one pseudo-run, episodes by step then index, with return and length from each file', async () => {
    const s = await serve(folder);
    expect(await getJson(s, '/api/source')).toEqual({ kind: 'episodes', name: 'my_episodes' });
    expect(await getJson<RunSummary[]>(s, '/api/runs')).toEqual([{ name: 'my_episodes', kind: 'episodes', episodes: 5, metrics: false, drawable: true }]);
    const rows = await getJson<EpisodeRow[]>(s, '/api/runs/my_episodes/episodes');
    expect(rows.map((r) => r.name)).toEqual(['cut', 'eval-step2500-s7-e000', 'eval-step2500-s7-e001', 'eval-step10000-s7-e000', 'notes']);
    for (const r of rows.filter((r) => r.name.startsWith('eval'))) {
      const ep = readEpisodeFile(join(folder, `${r.name}.npcep`));
      expect(r.error).toBeUndefined();
      expect(r.summary).toEqual({ game: 'catch', seed: ep.header.seed, steps: ep.stepCount, return: ep.returns[ep.frameCount - 1], terminated: ep.end!.terminated, truncated: ep.end!.truncated });
    }
    // The corrupt files are listed with a short line each, none quoting the file.
    expect(rows[0]).toMatchObject({ name: 'cut', error: 'no end record (the recording did not finish or the file was cut)' });
    expect(rows[4]).toMatchObject({ name: 'notes', error: 'not an npcforge episode' });
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    const ep = await get(s, '/api/runs/my_episodes/episodes/eval-step2500-s7-e001');
    expect(ep.status).toBe(200);
    expect(Buffer.from(ep.body, 'latin1').equals(readFileSync(join(folder, 'eval-step2500-s7-e001.npcep')))).toBe(true);
    for (const path of ['/api/runs/my_episodes/metrics', '/api/runs/my_episodes/supervised', '/api/runs/other/episodes', '/api/runs/my_episodes/episodes/metrics.jsonl', '/api/runs/my_episodes/episodes/..%2frun%2fepisodes%2fa']) {
      const r = await get(s, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain(SECRET);
    }
  });

  it('a single .npcep file: that file and nothing next to it', async () => {
    const s = await serve(join(folder, 'eval-step2500-s7-e001.npcep'));
    expect(await getJson(s, '/api/source')).toEqual({ kind: 'episode', name: 'eval-step2500-s7-e001' });
    expect(await getJson<RunSummary[]>(s, '/api/runs')).toEqual([{ name: 'eval-step2500-s7-e001', kind: 'episodes', episodes: 1, metrics: false, drawable: true }]);
    const rows = await getJson<EpisodeRow[]>(s, '/api/runs/eval-step2500-s7-e001/episodes');
    expect(rows.map((r) => r.name)).toEqual(['eval-step2500-s7-e001']);
    expect(rows[0]!.summary?.steps).toBe(readEpisodeFile(join(folder, 'eval-step2500-s7-e001.npcep')).stepCount);
    expect((await get(s, '/api/runs/eval-step2500-s7-e001/episodes/eval-step2500-s7-e001')).status).toBe(200);
    for (const sibling of ['eval-step2500-s7-e000', 'notes', 'cut']) expect((await get(s, `/api/runs/eval-step2500-s7-e001/episodes/${sibling}`)).status).toBe(404);
    expect((await get(s, '/api/runs/eval-step2500-s7-e001/metrics')).status).toBe(404);
  });

  it('a run folder: one run with its episodes/ and metrics', async () => {
    const s = await serve(join(tmp, 'run'));
    expect(await getJson(s, '/api/source')).toEqual({ kind: 'run', name: 'run' });
    expect(await getJson<RunSummary[]>(s, '/api/runs')).toEqual([{ name: 'run', kind: 'rl', episodes: 1, metrics: true, drawable: true }]);
    expect((await getJson<EpisodeRow[]>(s, '/api/runs/run/episodes')).map((r) => r.name)).toEqual(['a']);
    expect((await get(s, '/api/runs/run/metrics')).body).toContain('mean_return');
  });

  it('a runs folder lists a folder of .npcep files in it (record --out runs/<name>) as a run of episodes', async () => {
    const root = join(tmp, 'runs-root');
    mkdirSync(join(root, 'train-run', 'episodes'), { recursive: true });
    copyFileSync(join(folder, 'eval-step2500-s7-e000.npcep'), join(root, 'train-run', 'episodes', 'e.npcep'));
    mkdirSync(join(root, 'recorded'));
    for (const n of ['eval-step2500-s7-e001', 'eval-step10000-s7-e000']) copyFileSync(join(folder, `${n}.npcep`), join(root, 'recorded', `${n}.npcep`));
    mkdirSync(join(root, 'empty'));
    const s = await serve(root);
    expect(await getJson<RunSummary[]>(s, '/api/runs')).toEqual([
      { name: 'empty', kind: 'rl', episodes: 0, metrics: false, drawable: true },
      { name: 'recorded', kind: 'episodes', episodes: 2, metrics: false, drawable: true },
      { name: 'train-run', kind: 'rl', episodes: 1, metrics: false, drawable: true },
    ]);
    expect((await getJson<EpisodeRow[]>(s, '/api/runs/recorded/episodes')).map((r) => [r.name, r.summary?.steps])).toEqual([
      ['eval-step2500-s7-e001', readEpisodeFile(join(folder, 'eval-step2500-s7-e001.npcep')).stepCount],
      ['eval-step10000-s7-e000', readEpisodeFile(join(folder, 'eval-step10000-s7-e000.npcep')).stepCount],
    ]);
    expect((await get(s, '/api/runs/recorded/episodes/eval-step10000-s7-e000')).status).toBe(200);
  });

  it('refuses a path that is neither a folder nor a .npcep file', async () => {
    writeFileSync(join(tmp, 'notes.txt'), 'x');
    await expect(startViewerServer({ root: join(tmp, 'notes.txt') })).rejects.toThrow(/\(neither a folder nor a \.npcep file\); fix: /);
    await expect(startViewerServer({ root: join(tmp, 'missing.npcep') })).rejects.toThrow(/\(missing\)/);
  });
});

describe('episode summaries', () => {
  it('reads each file once while it is unchanged, again when it changes', async () => {
    const dir = join(tmp, 'cache');
    const path = record(dir, 'x', 3);
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    const summaries = new EpisodeSummaries();
    const a = await summaries.get(path);
    expect(a.ok).toBe(true);
    expect(await summaries.get(path)).toEqual(a);
    expect(summaries.reads).toBe(1);
    record(dir, 'x', 4);
    const b = await summaries.get(path);
    expect(summaries.reads).toBe(2);
    expect(b.ok && b.summary.seed).toBe(4);
    // A file written within the racy window is read again on every call.
    expect(await summaries.get(path)).toEqual(b);
    expect(summaries.reads).toBe(3);
    // With the listing's stat, a cached file is not even opened: gone since, it still answers from the cache.
    utimesSync(path, past, past);
    const st = statSync(path);
    const c = await summaries.get(path, st);
    expect(summaries.reads).toBe(4);
    rmSync(path);
    expect(await summaries.get(path, st)).toEqual(c);
    expect(await summaries.get(path)).toEqual({ ok: false, problem: 'not a readable regular file' });
    expect(summaries.reads).toBe(4);
  });

  it('reads only the header and the end record: chunks zeroed in between change nothing', async () => {
    // CartPole stepped on past the pole's fall (as the viewer's pixel test does): 3000 full-resolution frames.
    const env = make<Float32Array, number>('cartpole', { maxEpisodeSteps: null, orderEnforcing: false });
    env.reset({ seed: 1 });
    let inner: any = env;
    while (inner.env) inner = inner.env;
    const path = join(tmp, 'long.npcep');
    const w = new EpisodeFileWriter({ path });
    w.begin({ game: { id: 'cartpole', options: env.spec.options ?? {}, maxEpisodeSteps: null }, seed: 1, resetOptions: null, stateBeforeReset: null, stateAtReset: inner.getState(), actionNames: env.spec.actionNames, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, env.render!());
    for (let t = 0; t < 3000; t++) {
      const r = env.step(Math.floor(t / 3) % 2);
      w.step({ action: Math.floor(t / 3) % 2, reward: r.reward, terminated: false, truncated: false, frame: env.render!() });
    }
    w.finish();
    const ep = readEpisodeFile(path);
    const expected = { ok: true, summary: { game: 'cartpole', seed: 1, steps: 3000, return: ep.returns[3000], terminated: false, truncated: false } };
    const bytes = new Uint8Array(readFileSync(path));
    expect(summarizeEpisode(bytes.subarray(0, SUMMARY_HEAD_BYTES), bytes.subarray(Math.max(0, bytes.length - SUMMARY_TAIL_BYTES)), bytes.length)).toEqual(expected);
    // Every chunk (after the first 2 KB holding the header) and all but the last 100 bytes zeroed: the reader would refuse it, the summary does not look.
    bytes.fill(0, 2048, bytes.length - 100);
    writeFileSync(path, bytes);
    expect(() => readEpisodeFile(path)).toThrow();
    expect(await new EpisodeSummaries().get(path)).toEqual(expected);
  });

  it('never throws and stays within a memory cap on hostile files (child process, 128 MB heap)', () => {
    const dir = join(tmp, 'fuzz');
    mkdirSync(dir);
    const paths: string[] = [];
    const add = (name: string, bytes: Uint8Array | null): string => {
      const p = join(dir, `${paths.length}-${name.replace(/\W+/g, '_').slice(0, 40)}.npcep`);
      if (bytes) writeFileSync(p, bytes);
      paths.push(p);
      return p;
    };
    for (const h of hostileEpisodes()) add(h.name, h.bytes);
    const good = new Uint8Array(readFileSync(join(folder, 'eval-step2500-s7-e000.npcep')));
    const rng = new SeededRng(9);
    for (let i = 0; i < 40; i++) add(`cut ${i}`, good.subarray(0, Math.floor((good.length * i) / 40)));
    for (let i = 0; i < 80; i++) {
      const b = good.slice();
      // Flips near both ends: where the summary reads.
      for (let j = 0; j < 1 + (i % 3); j++) {
        const at = i % 2 ? rng.int(0, Math.min(400, b.length)) : b.length - 1 - rng.int(0, 100);
        b[at] = b[at]! ^ (1 << rng.int(0, 8));
      }
      add(`flip ${i}`, b);
    }
    for (let i = 0; i < 20; i++) add(`random ${i}`, Uint8Array.from({ length: rng.int(1, 3000) }, () => rng.int(0, 256)));
    execFileSync('mkfifo', [add('fifo', null)]);
    symlinkSync('/dev/zero', add('zero', null));
    mkdirSync(add('folder', null));
    truncateSync(add('sparse 4 GiB', new Uint8Array(0)), 4 * 1024 ** 3);
    const list = join(tmp, 'fuzz-list.json');
    writeFileSync(list, JSON.stringify(paths));
    const child = spawnSync(process.execPath, ['--max-old-space-size=128', join(import.meta.dirname, 'summary-fuzz-child.mjs'), 'episode', list], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 24 });
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; ok: boolean; problem?: string; threw?: string });
    expect(lines).toHaveLength(paths.length);
    expect(lines.filter((l) => l.threw)).toEqual([]);
    for (const l of lines) if (!l.ok) expect(l.problem!.length).toBeLessThan(120);
    expect(lines.filter((l) => !l.ok).length).toBeGreaterThan(paths.length / 2);
    expect(lines.some((l) => l.problem?.includes(SECRET))).toBe(false);
    // The files other than the FIFO, folder and /dev/zero are listed with a summary or a problem; those three as unreadable.
    for (const name of ['fifo', 'zero', 'folder']) expect(lines.find((l) => l.path.endsWith(`-${name}.npcep`))).toMatchObject({ ok: false, problem: 'not a readable regular file' });
  });
});
