import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { RunsListing, compareEpisodeNames, startViewerServer, type ViewerServer } from '../../src/render/server.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcview-srv-'));
const root = join(tmp, 'runs');
const assets = join(tmp, 'assets');
const outside = join(tmp, 'outside');
const SECRET = 'TOP-SECRET-CONTENT';
let server: ViewerServer;

/** Raw GET: node:http sends the path exactly as given (fetch would normalise `..` away). */
function get(path: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((ok, no) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('latin1'), type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', no);
    req.end();
  });
}

beforeAll(async () => {
  mkdirSync(join(root, 'run-a', 'episodes'), { recursive: true });
  writeFileSync(join(root, 'run-a', 'episodes', 'ep1.npcep'), Buffer.from([1, 2, 3, 4]));
  writeFileSync(join(root, 'run-a', 'episodes', 'notes.txt'), 'not served');
  writeFileSync(join(root, 'run-a', 'metrics.jsonl'), '{"step":1,"mean_return":0.5}\n');
  writeFileSync(join(root, 'run-a', 'config.json'), '{"secret":"config"}');
  mkdirSync(join(root, '.hidden', 'episodes'), { recursive: true });
  mkdirSync(join(outside, 'episodes'), { recursive: true });
  writeFileSync(join(outside, 'episodes', 'secret.npcep'), SECRET);
  writeFileSync(join(outside, 'metrics.jsonl'), SECRET);
  writeFileSync(join(tmp, 'secret.txt'), SECRET);
  // Symlinks that lead out of the served folder: a whole run and a single episode file.
  symlinkSync(outside, join(root, 'escape'));
  symlinkSync(join(outside, 'episodes', 'secret.npcep'), join(root, 'run-a', 'episodes', 'linked.npcep'));
  // An exported policy bundle: its .json and .bin files are served, nothing else in the folder.
  mkdirSync(join(root, 'run-a', 'policy'));
  writeFileSync(join(root, 'run-a', 'policy', 'policy.json'), '{"format":"npcforge-policy"}');
  writeFileSync(join(root, 'run-a', 'policy', 'weights.bin'), Buffer.from([9, 8, 7]));
  writeFileSync(join(root, 'run-a', 'policy', 'policy.onnx'), 'onnx');
  mkdirSync(join(outside, 'policy'));
  writeFileSync(join(outside, 'policy', 'policy.json'), SECRET);
  symlinkSync(join(outside, 'policy', 'policy.json'), join(root, 'run-a', 'policy', 'linked.json'));
  mkdirSync(assets);
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>viewer</title>');
  writeFileSync(join(assets, 'app.js'), 'console.log(1)');
  server = await startViewerServer({ root, assetsDir: assets, port: 0 });
});

afterAll(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('episode order', () => {
  it('sorts by step, then seed and index, with digit runs as numbers', () => {
    const names = ['eval-step10000-s12-e001', 'eval-step2500-s3-e010', 'eval-step10000-s12-e000', 'eval-step2500-s3-e002', 'record-step500-e000'];
    expect([...names].sort(compareEpisodeNames)).toEqual(['eval-step2500-s3-e002', 'eval-step2500-s3-e010', 'eval-step10000-s12-e000', 'eval-step10000-s12-e001', 'record-step500-e000']);
  });
});

describe('viewer server', () => {
  it('binds to 127.0.0.1 by default and serves the app', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.type).toMatch(/text\/html/);
    expect((await get('/app.js')).body).toBe('console.log(1)');
    expect((await get('/missing.js')).status).toBe(404);
  });

  it('lists runs and episodes under the root only', async () => {
    const runs = JSON.parse((await get('/api/runs')).body) as Array<{ name: string; episodes: number; metrics: boolean }>;
    expect(runs).toEqual([{ name: 'run-a', kind: 'rl', episodes: 1, metrics: true, drawable: true }]);
    const eps = JSON.parse((await get('/api/runs/run-a/episodes')).body) as Array<{ name: string }>;
    expect(eps.map((e) => e.name)).toEqual(['ep1']);
    const ep = await get('/api/runs/run-a/episodes/ep1');
    expect(ep.status).toBe(200);
    expect(ep.type).toBe('application/octet-stream');
    expect(Array.from(Buffer.from(ep.body, 'latin1'))).toEqual([1, 2, 3, 4]);
    expect((await get('/api/runs/run-a/metrics')).body).toContain('mean_return');
  });

  it("serves the .json and .bin files of a run's exported policy bundle", async () => {
    const p = await get('/api/runs/run-a/policy/policy.json');
    expect(p.status).toBe(200);
    expect(p.type).toMatch(/application\/json/);
    expect(p.body).toBe('{"format":"npcforge-policy"}');
    const w = await get('/api/runs/run-a/policy/weights.bin');
    expect(w.type).toBe('application/octet-stream');
    expect(Array.from(Buffer.from(w.body, 'latin1'))).toEqual([9, 8, 7]);
    expect((await get('/api/runs/run-a/policy/model.json')).status).toBe(404);
  });

  const attacks = [
    '/../secret.txt',
    '/../../etc/passwd',
    '/api/runs/../../secret.txt',
    '/api/runs/run-a/../../secret.txt/metrics',
    '/api/runs/%2e%2e/metrics',
    '/api/runs/%2E%2E/episodes',
    '/api/runs/%2e%2e%2foutside/metrics',
    '/api/runs/..%2foutside/metrics',
    '/api/runs/..%2Foutside/episodes/secret',
    '/api/runs/run-a/episodes/..%2f..%2f..%2foutside%2fepisodes%2fsecret',
    '/api/runs/run-a/episodes/%2e%2e%2f%2e%2e%2f..%2foutside%2fepisodes%2fsecret',
    '/api/runs/%252e%252e/metrics',
    '/api/runs/..%5coutside/metrics',
    '/api/runs/..\\outside/metrics',
    '/api/runs/%2Ftmp/metrics',
    `/api/runs/${encodeURIComponent(outside)}/metrics`,
    `/api/runs/${encodeURIComponent(outside)}/episodes/secret`,
    `/${outside}/metrics.jsonl`,
    '//etc/passwd',
    '/api/runs//etc/metrics',
    '/api/runs/escape/metrics',
    '/api/runs/escape/episodes',
    '/api/runs/escape/episodes/secret',
    '/api/runs/run-a/episodes/linked',
    '/api/runs/.hidden/episodes',
    '/api/runs/run-a/episodes/notes.txt',
    '/api/runs/run-a/config.json',
    '/api/runs/run-a',
    '/api/runs/run-a/episodes/ep1.npcep',
    '/api/',
    '/runs/run-a/episodes/ep1.npcep',
    '/api/runs/%00/metrics',
    '/api/runs/run-a/policy/policy.onnx',
    '/api/runs/run-a/policy/linked.json',
    '/api/runs/escape/policy/policy.json',
    '/api/runs/run-a/policy/..%2fconfig.json',
    '/api/runs/run-a/policy/%2e%2e',
    '/api/runs/run-a/policy',
    '/api/runs/run-a/policy/sub/policy.json',
    '/api/runs/%/metrics',
  ];

  for (const path of attacks) {
    it(`refuses ${path}`, async () => {
      const r = await get(path);
      expect([400, 404]).toContain(r.status);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain('config');
    });
  }

  it('lists the directory of episodes as JSON only, and answers only GET and HEAD', async () => {
    expect((await get('/api/runs/run-a/episodes', 'HEAD')).status).toBe(200);
    expect((await get('/api/runs', 'POST')).status).toBe(405);
    expect((await get('/api/runs/run-a/episodes/ep1', 'DELETE')).status).toBe(405);
  });

  it('streams files: a 1 GiB metrics file fetched twice at once by slow clients costs a few MB', async () => {
    mkdirSync(join(root, 'run-huge'));
    writeFileSync(join(root, 'run-huge', 'metrics.jsonl'), '');
    truncateSync(join(root, 'run-huge', 'metrics.jsonl'), 1 << 30); // sparse: no disk used
    const before = process.memoryUsage().arrayBuffers;
    const sockets: Socket[] = [];
    const firstBytes = Array.from({ length: 2 }, () =>
      new Promise<string>((ok, no) => {
        const s = connect(server.port, '127.0.0.1');
        sockets.push(s);
        const timer = setTimeout(() => no(new Error('no bytes within 5 s')), 5000);
        s.once('data', (c: Buffer) => {
          clearTimeout(timer);
          s.pause(); // a slow client: the server must wait, not buffer the file
          ok(c.toString('latin1'));
        });
        s.on('error', () => undefined);
        s.write(`GET /api/runs/run-huge/metrics HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      }),
    );
    try {
      for (const head of await Promise.all(firstBytes)) expect(head).toMatch(/^HTTP\/1\.1 200[^]*content-length: 1073741824/i);
      await new Promise((ok) => setTimeout(ok, 300));
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    } finally {
      for (const s of sockets) s.destroy();
    }
    expect((await get('/api/runs/run-a/metrics')).body).toContain('mean_return');
  });

  it('rejects a missing root or a bad port with InvalidConfigError', async () => {
    await expect(startViewerServer({ root: join(tmp, 'nope') })).rejects.toThrow(InvalidConfigError);
    await expect(startViewerServer({ root, port: 70000 })).rejects.toThrow(/port=70000/);
  });
});

describe('runs listing cache', () => {
  // 500 runs x 20 episodes is timed by `npm run bench -- view-runs`; this checks the cache logic on fewer files.
  it('serves a repeated listing from cache and rescans only changed runs', async () => {
    const big = join(tmp, 'big-runs');
    const past = new Date(Date.now() - 60_000);
    for (let r = 0; r < 200; r++) {
      const dir = join(big, `run-${String(r).padStart(3, '0')}`);
      mkdirSync(join(dir, 'episodes'), { recursive: true });
      for (let e = 0; e < 5; e++) writeFileSync(join(dir, 'episodes', `ep-${e}.npcep`), '');
      if (r % 2 === 0) writeFileSync(join(dir, 'metrics.jsonl'), '');
      utimesSync(join(dir, 'episodes'), past, past);
      utimesSync(dir, past, past);
    }
    const listing = new RunsListing(big);
    const first = await listing.list();
    expect(first).toHaveLength(200);
    expect(first[3]).toEqual({ name: 'run-003', kind: 'rl', episodes: 5, metrics: false, drawable: true });
    expect(listing.scans).toBe(200);
    expect(await listing.list()).toEqual(first);
    expect(listing.scans).toBe(200);

    // One new episode and one new metrics file: only those two runs are scanned again.
    writeFileSync(join(big, 'run-007', 'episodes', 'late.npcep'), '');
    writeFileSync(join(big, 'run-009', 'metrics.jsonl'), '');
    const third = await listing.list();
    expect(listing.scans).toBe(202);
    expect(third.find((r) => r.name === 'run-007')?.episodes).toBe(6);
    expect(third.find((r) => r.name === 'run-009')?.metrics).toBe(true);
    rmSync(join(big, 'run-010'), { recursive: true });
    expect((await listing.list()).map((r) => r.name)).not.toContain('run-010');
  });

  it('does not trust mtimes within the racy window (coarse file-system clocks)', async () => {
    const dir = join(tmp, 'racy-runs');
    mkdirSync(join(dir, 'run-x', 'episodes'), { recursive: true });
    let now = Date.now();
    const listing = new RunsListing(dir, () => now);
    await listing.list();
    await listing.list();
    expect(listing.scans).toBe(2);
    now += 60_000;
    await listing.list();
    await listing.list();
    expect(listing.scans).toBe(3);
  });
});
