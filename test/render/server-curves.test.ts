/**
 * What the viewer server adds for the learning curves: game, agent and seed from each run's
 * config.json (untrusted), the run's status from status.json (heartbeat checked without a rescan),
 * and metrics.jsonl read from a byte offset with the file's size and identity.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LISTED_CONFIG_BYTES, RunsListing, startViewerServer, type ViewerServer } from '../../src/render/server.js';
import { STALE_MS, STATUS_FILE } from '../../src/train/run-status.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcview-curves-srv-'));
const root = join(tmp, 'runs');
let server: ViewerServer;

function get(path: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((ok, no) => {
    const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
    });
    req.on('error', no);
    req.end();
  });
}

const config = (game: unknown, agent: unknown, seed: unknown): string => JSON.stringify({ format: 'npcforge-run', version: 1, game, agent, run: { seed, steps: 100 } });
const status = (state: string, pid: number, host: string): string => JSON.stringify({ format: 'npcforge-run-status', version: 1, state, pid, host, startedAt: '2026-01-01T00:00:00.000Z', endedAt: null, reason: null });

beforeAll(async () => {
  const run = (name: string, files: Record<string, string>): void => {
    mkdirSync(join(root, name), { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(root, name, f), text);
  };
  run('good', { 'config.json': config('minatar/breakout', 'dqn', 7), 'metrics.jsonl': '{"step":1,"v":1}\n{"step":2,"v":2}\n' });
  run('markup', { 'config.json': config('<img src=x onerror=alert(1)>', 'd q n', 1.5) });
  run('not-json', { 'config.json': '{"game": "catch", ' });
  run('array', { 'config.json': '[1,2,3]' });
  run('huge', { 'config.json': JSON.stringify({ game: 'catch', agent: 'dqn', run: { seed: 1 }, pad: 'x'.repeat(MAX_LISTED_CONFIG_BYTES) }) });
  mkdirSync(join(root, 'folder-config', 'config.json'), { recursive: true });
  mkdirSync(join(root, 'fifo-config'));
  execFileSync('mkfifo', [join(root, 'fifo-config', 'config.json')]);
  server = await startViewerServer({ root, port: 0 });
});

afterAll(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('/api/runs metadata', () => {
  it('reports game, agent and seed where config.json has them, nothing from a hostile or unreadable one', async () => {
    const r = await get('/api/runs');
    expect(r.status).toBe(200);
    const rows = Object.fromEntries((JSON.parse(r.body) as Array<{ name: string }>).map((x) => [x.name, x]));
    expect(rows.good).toEqual({ name: 'good', kind: 'rl', episodes: 0, metrics: true, drawable: true, game: 'minatar/breakout', agent: 'dqn', seed: 7 });
    for (const name of ['markup', 'not-json', 'array', 'huge', 'folder-config', 'fifo-config']) expect(rows[name], name).toEqual({ name, kind: 'rl', episodes: 0, metrics: false, drawable: true });
    expect(r.body).not.toContain('onerror');
  });
});

describe('run status in the listing', () => {
  it('running, then interrupted when the pid is gone or the heartbeat is stale, without rescanning the run', async () => {
    const dir = join(tmp, 'status-runs');
    mkdirSync(join(dir, 'r'), { recursive: true });
    writeFileSync(join(dir, 'r', STATUS_FILE), status('running', 4242, 'here'));
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'r'), past, past);
    let now = Date.now();
    let alive = true;
    const listing = new RunsListing(dir, () => now, 'here', () => alive);
    // A heartbeat now (the folder's own mtime stays in the past, so the run is cached).
    utimesSync(join(dir, 'r', STATUS_FILE), new Date(now), new Date(now));
    expect((await listing.list())[0]!.status).toBe('running');
    alive = false;
    expect((await listing.list())[0]!.status).toBe('interrupted');
    alive = true;
    now += STALE_MS + 1000;
    expect((await listing.list())[0]!.status).toBe('interrupted');
    // A beat brings it back (a long step had held the event loop).
    utimesSync(join(dir, 'r', STATUS_FILE), new Date(now), new Date(now));
    expect((await listing.list())[0]!.status).toBe('running');
    expect(listing.scans).toBe(1);
    // The process ends: the file is replaced (renamed over): its content is read again.
    writeFileSync(join(dir, 'r', 'tmp'), status('finished', 4242, 'here'));
    renameSync(join(dir, 'r', 'tmp'), join(dir, 'r', STATUS_FILE));
    expect((await listing.list())[0]!.status).toBe('finished');
    // Another host's run (resumed there): only the heartbeat counts.
    writeFileSync(join(dir, 'r', 'tmp'), status('running', 1, 'elsewhere'));
    renameSync(join(dir, 'r', 'tmp'), join(dir, 'r', STATUS_FILE));
    alive = false;
    utimesSync(join(dir, 'r', STATUS_FILE), new Date(now), new Date(now));
    expect((await listing.list())[0]!.status).toBe('running');
    // Rewritten in place while running (by hand: another size): read again; not a status file, so no status at all.
    writeFileSync(join(dir, 'r', STATUS_FILE), '{"state":"running"}');
    expect((await listing.list())[0]!.status).toBeUndefined();
    rmSync(join(dir, 'r', STATUS_FILE));
    expect((await listing.list())[0]!.status).toBeUndefined();
  });
});

describe('metrics.jsonl from an offset', () => {
  it('serves the bytes from ?from=, with the file size and identity; an offset past the end is an empty body', async () => {
    const whole = '{"step":1,"v":1}\n{"step":2,"v":2}\n';
    const all = await get('/api/runs/good/metrics');
    expect(all.body).toBe(whole);
    const tail = await get('/api/runs/good/metrics?from=17');
    expect(tail.status).toBe(200);
    expect(tail.body).toBe('{"step":2,"v":2}\n');
    expect(tail.headers['x-npcforge-file-size']).toBe(String(whole.length));
    const id = tail.headers['x-npcforge-file-id'];
    expect(id).toMatch(/^\d+-\d+$/);
    const none = await get(`/api/runs/good/metrics?from=${whole.length + 100}`);
    expect(none.status).toBe(200);
    expect(none.body).toBe('');
    expect(none.headers['x-npcforge-file-size']).toBe(String(whole.length));
    // Replaced by a rename (as a resume rewrites it): another identity.
    writeFileSync(join(root, 'good', 'next'), '{"step":1,"v":9}\n');
    renameSync(join(root, 'good', 'next'), join(root, 'good', 'metrics.jsonl'));
    const again = await get('/api/runs/good/metrics?from=0');
    expect(again.headers['x-npcforge-file-id']).not.toBe(id);
    for (const bad of ['-1', '1e3', 'abc', '9999999999999999', '']) expect((await get(`/api/runs/good/metrics?from=${bad}`)).status, bad).toBe(400);
  });
});
