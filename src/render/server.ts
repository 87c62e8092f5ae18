/**
 * Local HTTP server of the replay viewer (`npcforge view`). Serves the bundled app and, read-only,
 * the run folders under one root: `runs/<run>/episodes/*.npcep` and `runs/<run>/metrics.jsonl`.
 * Nothing else is reachable: every path segment is decoded once and checked against a strict name
 * pattern, and the resolved real path (symlinks followed) must stay inside the root.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../errors.js';

export interface ViewerServerOptions {
  /** Folder holding the run folders. */
  root: string;
  /** TCP port; 0 picks a free one (default 0). */
  port?: number;
  /** Interface to bind (default 127.0.0.1: reachable from this machine only). */
  host?: string;
  /** Folder of the bundled app (default `<package>/dist/viewer`). */
  assetsDir?: string;
}

export interface ViewerServer {
  /** Base URL, e.g. `http://127.0.0.1:7070/`. */
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

export const DEFAULT_VIEWER_HOST = '127.0.0.1';

/** Names the server accepts for runs and episodes: no separators, no leading dot. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;
const ASSET = /^[A-Za-z0-9_-]+\.(html|js|css|png|map)$/;
const EPISODE_EXT = '.npcep';
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', png: 'image/png', map: 'application/json' };

/** The package's `dist/viewer` folder, found from this module's location (src/ or dist/src/). */
export function defaultAssetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'viewer');
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'viewer');
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Splits and decodes the path; rejects anything that could name a file outside the allowed set. */
function segments(rawUrl: string): string[] {
  const q = rawUrl.indexOf('?');
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) throw new HttpError(400, 'bad path');
  const parts = path.slice(1).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((p, i) => {
    let d: string;
    try {
      d = decodeURIComponent(p);
    } catch {
      throw new HttpError(400, 'bad escape');
    }
    if (i === 0 && parts.length === 1 && d === '') return d;
    if (!NAME.test(d)) throw new HttpError(404, 'not found');
    return d;
  });
}

async function inside(root: string, path: string): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(path);
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (real !== root && !real.startsWith(root + sep)) throw new HttpError(404, 'not found');
  return real;
}

async function listRuns(root: string): Promise<Array<{ name: string; episodes: number; metrics: boolean }>> {
  const out: Array<{ name: string; episodes: number; metrics: boolean }> = [];
  for (const e of await fs.readdir(root, { withFileTypes: true })) {
    if (!NAME.test(e.name) || !(e.isDirectory() || e.isSymbolicLink())) continue;
    let real: string;
    try {
      real = await inside(root, join(root, e.name));
      if (!(await fs.stat(real)).isDirectory()) continue;
    } catch {
      continue;
    }
    const episodes = (await listEpisodes(root, real)).length;
    const metrics = await fs.stat(join(real, 'metrics.jsonl')).then((s) => s.isFile(), () => false);
    out.push({ name: e.name, episodes, metrics });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function listEpisodes(root: string, runDir: string): Promise<Array<{ name: string; bytes: number; modified: string }>> {
  let dir: string;
  try {
    dir = await inside(root, join(runDir, 'episodes'));
  } catch {
    return [];
  }
  const out: Array<{ name: string; bytes: number; modified: string }> = [];
  for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith(EPISODE_EXT) || !NAME.test(f)) continue;
    try {
      const real = await inside(root, join(dir, f));
      const st = await fs.stat(real);
      if (st.isFile()) out.push({ name: f.slice(0, -EPISODE_EXT.length), bytes: st.size, modified: st.mtime.toISOString() });
    } catch {
      continue;
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function send(res: ServerResponse, status: number, type: string, body: Uint8Array | string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/** Starts the viewer server; resolves once it listens. */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const { port = 0, host = DEFAULT_VIEWER_HOST } = options;
  const bad: string[] = [];
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad.push(`port=${describe(port)}`);
  if (typeof host !== 'string' || host === '') bad.push(`host=${describe(host)}`);
  let root = '';
  try {
    root = await fs.realpath(resolve(options.root));
    if (!(await fs.stat(root)).isDirectory()) bad.push(`root=${describe(options.root)} (not a folder)`);
  } catch {
    bad.push(`root=${describe(options.root)} (missing)`);
  }
  if (bad.length) throw new InvalidConfigError(formatError('npcforge view', 'an existing runs folder, a port in [0, 65535] and a host', bad.join(', '), 'pass e.g. `npcforge view runs --port 7070`'));
  const assets = resolve(options.assetsDir ?? defaultAssetsDir());

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) throw new HttpError(405, 'method not allowed');
    const seg = segments(req.url ?? '/');
    const json = (v: unknown): void => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(v), head);
    if (seg.length === 1 && (seg[0] === '' || ASSET.test(seg[0]!))) {
      const name = seg[0] === '' ? 'index.html' : seg[0]!;
      const body = await fs.readFile(join(assets, name)).catch(() => null);
      if (!body) throw new HttpError(name === 'index.html' ? 500 : 404, name === 'index.html' ? `viewer bundle missing in ${assets}; run \`npm run build\`` : 'not found');
      send(res, 200, TYPES[name.split('.').pop()!]!, body, head);
      return;
    }
    if (seg[0] !== 'api') throw new HttpError(404, 'not found');
    if (seg.length === 2 && seg[1] === 'runs') return json(await listRuns(root));
    if (seg.length >= 4 && seg[1] === 'runs') {
      const runDir = await inside(root, join(root, seg[2]!));
      if (seg.length === 4 && seg[3] === 'episodes') return json(await listEpisodes(root, runDir));
      if (seg.length === 4 && seg[3] === 'metrics') {
        const file = await inside(root, join(runDir, 'metrics.jsonl'));
        send(res, 200, 'application/x-ndjson; charset=utf-8', await fs.readFile(file), head);
        return;
      }
      if (seg.length === 5 && seg[3] === 'episodes') {
        const file = await inside(root, join(runDir, 'episodes', seg[4]! + EPISODE_EXT));
        if (!(await fs.stat(file)).isFile()) throw new HttpError(404, 'not found');
        send(res, 200, 'application/octet-stream', await fs.readFile(file), head);
        return;
      }
    }
    throw new HttpError(404, 'not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: message }), req.method === 'HEAD');
      else res.destroy();
    });
  });
  await new Promise<void>((ok, no) => {
    server.once('error', no);
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}/`,
    port: actualPort,
    host,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
