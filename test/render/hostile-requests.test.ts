/**
 * Acceptance (issue 14): the view server and the pong play server survive hostile requests
 * (malformed escapes, traversal raw and encoded, symlinks and FIFOs in the served folders, a wrong
 * Host, other methods, files vanishing between listing and reading or mid-stream, very long URLs)
 * and keep answering correctly afterwards. Requests go over raw sockets so that nothing (fetch,
 * http.request) normalises the path or the Host header first. Everything binds to 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNpcPlayServer, type NpcPlayServer } from '../../src/export/play-server.js';
import { startViewerServer, type ViewerServer } from '../../src/render/server.js';
import { hostAllowed } from '../../src/render/static-files.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-hostile-'));
const runs = join(tmp, 'runs');
const assets = join(tmp, 'assets');
const page = join(tmp, 'page');
const bundle = join(tmp, 'npc');
const SECRET = 'TOP-SECRET-CONTENT';
const secretFile = join(tmp, 'secret.txt');
const EPISODE = Buffer.from([7, 0, 255, 1, 2, 3]);
const BIG = 16 * 1024 * 1024;
const hasFifo = process.platform !== 'win32';
let view: ViewerServer;
let play: NpcPlayServer;
let playPort = 0;

interface Reply {
  status: number;
  headers: string;
  body: Buffer;
  /** Content-Length announced by the server (-1 when absent). */
  length: number;
}

/** Sends `raw` bytes on a fresh socket and collects the whole answer; fails after `ms`. */
function rawRequest(port: number, raw: string, ms = 5000): Promise<Reply> {
  return new Promise((ok, no) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      no(new Error(`no answer within ${ms} ms to ${JSON.stringify(raw.slice(0, 80))}`));
    }, ms);
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      const headers = all.subarray(0, end < 0 ? all.length : end).toString('latin1');
      const length = /content-length: *(\d+)/i.exec(headers);
      ok({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: end < 0 ? Buffer.alloc(0) : all.subarray(end + 4), length: length ? Number(length[1]) : -1 });
    });
    socket.write(raw);
  });
}

/** One request with an explicit Host (default: the server's own address) and method. */
function send(port: number, path: string, o: { method?: string; host?: string | null } = {}): Promise<Reply> {
  const host = o.host === undefined ? `127.0.0.1:${port}` : o.host;
  const hostLine = host === null ? '' : `Host: ${host}\r\n`;
  const body = o.method === 'POST' || o.method === 'PUT' ? 'x=1' : '';
  const bodyHeaders = body ? `Content-Length: ${body.length}\r\n` : '';
  return rawRequest(port, `${o.method ?? 'GET'} ${path} HTTP/1.1\r\n${hostLine}${bodyHeaders}Connection: close\r\n\r\n${body}`);
}

beforeAll(async () => {
  writeFileSync(secretFile, SECRET);
  mkdirSync(join(runs, 'run-a', 'episodes'), { recursive: true });
  writeFileSync(join(runs, 'run-a', 'episodes', 'ep1.npcep'), EPISODE);
  writeFileSync(join(runs, 'run-a', 'metrics.jsonl'), '{"step":1,"mean_return":0.5}\n');
  symlinkSync(secretFile, join(runs, 'run-a', 'episodes', 'passwd.npcep'));
  symlinkSync(tmp, join(runs, 'up'));
  mkdirSync(join(runs, 'run-fifo', 'episodes'), { recursive: true });
  mkdirSync(join(runs, 'run-big'));
  mkdirSync(assets);
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>viewer</title>');
  writeFileSync(join(assets, 'app.js'), 'console.log(1)');

  mkdirSync(page);
  writeFileSync(join(page, 'index.html'), '<!doctype html><title>pong</title>');
  writeFileSync(join(page, 'app.js'), 'console.log(2)');
  mkdirSync(bundle);
  for (const f of readdirSync(join(REPO, 'examples', 'pong', 'npc'))) copyFileSync(join(REPO, 'examples', 'pong', 'npc', f), join(bundle, f));
  symlinkSync(secretFile, join(bundle, 'x'));
  symlinkSync(tmp, join(bundle, 'up'));
  if (hasFifo) {
    execFileSync('mkfifo', [join(runs, 'run-fifo', 'metrics.jsonl')]);
    execFileSync('mkfifo', [join(runs, 'run-fifo', 'episodes', 'pipe.npcep')]);
    execFileSync('mkfifo', [join(bundle, 'fifo.bin')]);
    execFileSync('mkfifo', [join(page, 'fifo.js')]);
  }
  view = await startViewerServer({ root: runs, assetsDir: assets, port: 0 });
  play = await startNpcPlayServer({ game: 'pong', bundleDir: bundle, root: REPO, pageDir: page, port: 0 });
  playPort = Number(new URL(play.url).port);
});

afterAll(async () => {
  await view?.close();
  await play?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Target {
  name: string;
  port: () => number;
  /** A normal request and the exact bytes it must return. */
  good: { path: string; bytes: () => Buffer };
  /** Hostile paths specific to this server (beyond the shared list). */
  paths: string[];
  /** Paths of FIFOs inside the served folders. */
  fifos: string[];
}

const SHARED = [
  '/%',
  '/%zz',
  '/%e',
  '/npc/%',
  '/npc/%zz',
  '/index.html%ff',
  '/index.html%',
  '/api/episode?path=%',
  '/api/runs/%/metrics',
  '/%c0%ae%c0%ae/secret.txt',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/%2e%2e/secret.txt',
  '/../secret.txt',
  '/../../../../etc/passwd',
  '/..%2f..%2fsecret.txt',
  '/..%5c..%5csecret.txt',
  '/npc/../../secret.txt',
  '/npc/%2e%2e/%2e%2e/secret.txt',
  '/npc/..%2f..%2fsecret.txt',
  '/npc/%2fetc%2fpasswd',
  `/npc/${encodeURIComponent(secretFile)}`,
  '/npc/up/secret.txt',
  '/npc/%00',
  '//etc/passwd',
  '/\\..\\secret.txt',
  'http://evil.example/secret.txt',
  '*',
  '/api/runs/up/metrics',
  '/api/runs/%2e%2e/episodes/secret',
  '/api/runs/run-a/episodes/..%2f..%2f..%2fsecret',
  '/' + 'a'.repeat(5000),
  '/npc/' + 'a/'.repeat(3000) + 'x',
];

const targets: Target[] = [
  {
    name: 'view server',
    port: () => view.port,
    good: { path: '/api/runs/run-a/episodes/ep1', bytes: () => EPISODE },
    paths: ['/api/runs/run-a/episodes/passwd', '/api/runs/run-a/episodes/passwd.npcep'],
    fifos: ['/api/runs/run-fifo/metrics', '/api/runs/run-fifo/episodes/pipe'],
  },
  {
    name: 'play server',
    port: () => playPort,
    good: { path: '/npc/policy.json', bytes: () => readFileSync(join(bundle, 'policy.json')) },
    paths: ['/npc/x', '/npc/x/', '/npc/./x', '/npc/%78'],
    fifos: ['/npc/fifo.bin', '/fifo.js'],
  },
];

describe.each(targets)('$name under hostile requests', (t) => {
  const expectGood = async (): Promise<void> => {
    const r = await send(t.port(), t.good.path);
    expect(r.status).toBe(200);
    expect(r.body.equals(t.good.bytes())).toBe(true);
  };

  it('answers a normal GET with the right bytes first', expectGood);

  it('refuses malformed escapes, traversal, symlinks out and long URLs, and keeps answering', async () => {
    for (const path of [...SHARED, ...t.paths]) {
      const r = await send(t.port(), path);
      expect([400, 404, 414], `${path} -> ${r.status}`).toContain(r.status);
      expect(r.body.toString('latin1')).not.toContain(SECRET);
      expect(r.body.toString('latin1')).not.toContain('root:');
    }
    await expectGood();
  });

  it('answers a URL far over the header limit with an error, not a crash', async () => {
    const r = await send(t.port(), '/' + 'a'.repeat(100_000));
    expect([414, 431, 400]).toContain(r.status);
    await expectGood();
  });

  it('answers a garbage request line with 400', async () => {
    const r = await rawRequest(t.port(), 'GARBAGE\r\n\r\n');
    expect(r.status).toBe(400);
    const r2 = await rawRequest(t.port(), `GET /%%% HTTP/1.1\r\nHost: 127.0.0.1:${t.port()}\r\nContent-Length: -1\r\n\r\n`);
    expect(r2.status).toBe(400);
    await expectGood();
  });

  it.runIf(hasFifo)('never blocks on a FIFO (more FIFO requests than libuv threads)', async () => {
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => send(t.port(), t.fifos[i % t.fifos.length]!)));
    for (const r of replies) expect(r.status).toBe(404);
    await expectGood();
  });

  it('checks the Host header (DNS rebinding) and accepts the loopback names', async () => {
    const port = t.port();
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost:${port + 1}`, `127.0.0.1`, `[::1]`, '', null]) {
      const r = await send(port, t.good.path, { host });
      expect([400, 403], `Host ${JSON.stringify(host)} -> ${r.status}`).toContain(r.status);
      expect(r.body.equals(t.good.bytes())).toBe(false);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const r = await send(port, t.good.path, { host });
      expect(r.status, `Host ${host}`).toBe(200);
      expect(r.body.equals(t.good.bytes())).toBe(true);
    }
  });

  it('answers GET and HEAD only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']) {
      const r = await send(t.port(), t.good.path, { method });
      expect(r.status, method).toBe(405);
      expect(r.headers).toMatch(/allow: GET, HEAD/i);
    }
    const head = await send(t.port(), t.good.path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.length).toBe(t.good.bytes().length);
    expect(head.body.length).toBe(0);
    await expectGood();
  });
});

describe('files that vanish', () => {
  it('view: an episode deleted between listing and reading is a 404', async () => {
    writeFileSync(join(runs, 'run-a', 'episodes', 'gone.npcep'), EPISODE);
    const list = await send(view.port, '/api/runs/run-a/episodes');
    expect(JSON.parse(list.body.toString()).map((e: { name: string }) => e.name)).toContain('gone');
    unlinkSync(join(runs, 'run-a', 'episodes', 'gone.npcep'));
    expect((await send(view.port, '/api/runs/run-a/episodes/gone')).status).toBe(404);
    expect((await send(view.port, '/api/runs/run-a/episodes/ep1')).body.equals(EPISODE)).toBe(true);
  });

  it('play: a bundle file deleted while the server runs is a 404, and the server lives on', async () => {
    writeFileSync(join(bundle, 'extra.bin'), EPISODE);
    expect((await send(playPort, '/npc/extra.bin')).body.equals(EPISODE)).toBe(true);
    unlinkSync(join(bundle, 'extra.bin'));
    expect((await send(playPort, '/npc/extra.bin')).status).toBe(404);
    expect((await send(playPort, '/npc/policy.json')).status).toBe(200);
  });

  /** Starts a GET of a big file, reads the first bytes, then lets `mutate` act while the socket is paused. */
  async function midStream(port: number, path: string, file: string, mutate: () => void): Promise<Reply> {
    writeFileSync(file, Buffer.alloc(BIG, 0x61));
    return new Promise((ok, no) => {
      const socket = connect(port, '127.0.0.1');
      const parts: Buffer[] = [];
      let mutated = false;
      const timer = setTimeout(() => {
        socket.destroy();
        no(new Error('mid-stream request hung'));
      }, 15_000);
      socket.on('data', (c: Buffer) => {
        parts.push(c);
        if (!mutated) {
          mutated = true;
          socket.pause();
          setTimeout(() => {
            mutate();
            socket.resume();
          }, 100);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        const all = Buffer.concat(parts);
        const end = all.indexOf('\r\n\r\n');
        const headers = all.subarray(0, end).toString('latin1');
        ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: all.subarray(end + 4), length: Number(/content-length: *(\d+)/i.exec(headers)?.[1] ?? -1) });
      });
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
  }

  it('a file truncated mid-stream ends the response short (no hang, no crash)', async () => {
    const file = join(runs, 'run-big', 'metrics.jsonl');
    const r = await midStream(view.port, '/api/runs/run-big/metrics', file, () => truncateSync(file, 0));
    expect(r.status).toBe(200);
    expect(r.length).toBe(BIG);
    expect(r.body.length).toBeLessThan(BIG);
    expect((await send(view.port, '/api/runs/run-a/episodes/ep1')).body.equals(EPISODE)).toBe(true);
  });

  it('a file deleted mid-stream is served whole from the open handle', async () => {
    const file = join(bundle, 'big.bin');
    const r = await midStream(playPort, '/npc/big.bin', file, () => unlinkSync(file));
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(BIG);
    expect(r.body.every((b) => b === 0x61)).toBe(true);
    expect((await send(playPort, '/npc/policy.json')).status).toBe(200);
  });
});

describe('hostAllowed', () => {
  it('accepts loopback names and the bound host with the bound port only', () => {
    const bound = { host: '127.0.0.1', port: 7070 };
    for (const h of ['127.0.0.1:7070', 'localhost:7070', 'LocalHost:7070', '[::1]:7070']) expect(hostAllowed(h, bound), h).toBe(true);
    for (const h of [undefined, '', '127.0.0.1', 'localhost', '127.0.0.1:7071', 'evil.example:7070', 'localhost.evil.example:7070', '10.0.0.2:7070', '[::1]']) expect(hostAllowed(h, bound), String(h)).toBe(false);
    expect(hostAllowed('mybox.lan:8080', { host: 'mybox.lan', port: 8080 })).toBe(true);
    expect(hostAllowed('localhost', { host: '127.0.0.1', port: 80 })).toBe(true);
  });

  it('accepts any IP literal (never a rebinding domain) when bound to every interface', () => {
    for (const host of ['0.0.0.0', '::']) {
      const bound = { host, port: 7070 };
      for (const h of ['192.168.1.20:7070', '[fe80::1]:7070', '0.0.0.0:7070', 'localhost:7070']) expect(hostAllowed(h, bound), `${host} ${h}`).toBe(true);
      for (const h of ['evil.example:7070', '192.168.1.20:7071', '192.168.1.20', '1.2.3:7070']) expect(hostAllowed(h, bound), `${host} ${h}`).toBe(false);
    }
  });
});
