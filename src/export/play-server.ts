/**
 * Local HTTP server of `npcforge play <game> --npc <bundle>`: serves the game's browser page
 * (built into dist/<game>-npc/ by scripts/bundle-<game>-npc.mjs) and the policy bundle under /npc/.
 * Requests get the same checks as the viewer's (`render/static-files.ts`): decoded once, confined to
 * their folder by real path, regular files only, GET/HEAD only, Host checked, errors never fatal.
 */
import { existsSync, promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { CheckpointError, InvalidConfigError, formatError, describe } from '../errors.js';
import { decodePath, sendFile, startLocalServer, type RouteHandler } from '../render/static-files.js';

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

/** Starts the server; resolves once it listens. */
export async function startNpcPlayServer(o: NpcPlayServerOptions): Promise<NpcPlayServer> {
  const pageRel = NPC_PAGES[o.game];
  if (!pageRel) throw new InvalidConfigError(formatError('play --npc', `a game with an NPC page (${Object.keys(NPC_PAGES).join(', ')})`, describe(o.game), 'play one of the listed games against an NPC'));
  const pageDir = resolve(o.pageDir ?? resolve(o.root, pageRel));
  if (!existsSync(join(pageDir, 'index.html'))) throw new CheckpointError(formatError('play --npc', `the built page ${pageDir}/index.html`, 'a missing file', 'run `npm run build` (scripts/build.mjs bundles the page)'));
  if (!existsSync(join(resolve(o.bundleDir), 'policy.json'))) throw new CheckpointError(formatError('play --npc', 'a policy bundle folder with policy.json', describe(o.bundleDir), 'pass the folder written by npcforge export'));
  // Real paths once: every served file's real path must stay inside one of them.
  const page = await fs.realpath(pageDir);
  const bundle = await fs.realpath(resolve(o.bundleDir));
  const handle: RouteHandler = async (req, res, head) => {
    const seg = decodePath(req.url ?? '/');
    const [base, rest] = seg[0] === 'npc' && seg.length > 1 ? [bundle, seg.slice(1)] : [page, seg[0] === '' ? ['index.html'] : seg];
    const path = join(base, ...rest);
    await sendFile(res, { root: base, path, type: TYPES[extname(path)] ?? 'application/octet-stream', head });
  };
  const server = await startLocalServer({ component: 'play --npc', host: o.host ?? '127.0.0.1', port: o.port ?? 0, handle });
  return { url: server.url, server: server.server, close: () => server.close() };
}
