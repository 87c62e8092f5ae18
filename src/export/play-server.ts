/**
 * Local HTTP server of `npcforge play <game> --npc <bundle>`: serves the game's browser page
 * (built into dist/<game>-npc/ by scripts/bundle-<game>-npc.mjs) and the policy bundle under /npc/.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { CheckpointError, InvalidConfigError, formatError, describe } from '../errors.js';

/** Games that have an NPC page, with the page folder relative to the package root. */
export const NPC_PAGES: Record<string, string> = { pong: join('dist', 'pong-npc') };

export interface NpcPlayServerOptions {
  game: string;
  /** Policy bundle folder (policy.json, model.json, weights.bin). */
  bundleDir: string;
  /** Package root (holds dist/). */
  root: string;
  /** Folder of the built page (default: the game's folder under dist/). */
  pageDir?: string;
  /** Port (default 0 = any free port). */
  port?: number;
  /** Host (default 127.0.0.1: local only). */
  host?: string;
}

export interface NpcPlayServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.bin': 'application/octet-stream', '.css': 'text/css' };

/** Resolves `rel` under `base`, refusing paths that climb out of it. */
function inside(base: string, rel: string): string | null {
  const p = normalize(join(base, rel));
  return p === base || p.startsWith(base + sep) ? p : null;
}

/** Starts the server; resolves once it listens. */
export async function startNpcPlayServer(o: NpcPlayServerOptions): Promise<NpcPlayServer> {
  const pageRel = NPC_PAGES[o.game];
  if (!pageRel) throw new InvalidConfigError(formatError('play --npc', `a game with an NPC page (${Object.keys(NPC_PAGES).join(', ')})`, describe(o.game), 'play one of the listed games against an NPC'));
  const page = resolve(o.pageDir ?? resolve(o.root, pageRel));
  if (!existsSync(join(page, 'index.html'))) throw new CheckpointError(formatError('play --npc', `the built page ${page}/index.html`, 'a missing file', 'run `npm run build` (scripts/build.mjs bundles the page)'));
  const bundle = resolve(o.bundleDir);
  if (!existsSync(join(bundle, 'policy.json'))) throw new CheckpointError(formatError('play --npc', 'a policy bundle folder with policy.json', describe(o.bundleDir), 'pass the folder written by npcforge export'));
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const file = path.startsWith('/npc/') ? inside(bundle, path.slice(5)) : inside(page, path === '/' ? 'index.html' : path.slice(1));
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, host, () => ok());
  });
  const port = (server.address() as { port: number }).port;
  return { url: `http://${host}:${port}/`, server, close: () => new Promise((ok) => server.close(() => ok())) };
}
