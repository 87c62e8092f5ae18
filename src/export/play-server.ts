/**
 * Local HTTP server of `npcforge play <game> --npc <bundle>`: serves the game's browser page
 * (built into dist/<game>-npc/ by scripts/bundle-<game>-npc.mjs) and the policy bundle under /npc/.
 * A ladder folder (`export --ladder`) is served the same way; the page then loads a level by its
 * `?level=` parameter, and `/` without one is redirected to the first level (or `ladderLevel`).
 * Requests get the same checks as the viewer's (`render/static-files.ts`): decoded once, confined to
 * their folder by real path, regular files only, GET/HEAD only, Host checked, errors never fatal.
 */
import { existsSync, promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { CheckpointError, InvalidConfigError, formatError, describe } from '../errors.js';
import { decodePath, sendFile, startLocalServer, type RouteHandler } from '../render/static-files.js';
import { MAX_LADDER_JSON_BYTES, parseLadderFile, type LadderFile } from '../runtime/ladder-file.js';

/** Reads and checks `<dir>/ladder.json` (a regular file of bounded size). */
async function readLadder(dir: string): Promise<LadderFile> {
  const path = join(dir, 'ladder.json');
  const st = await fs.stat(path);
  if (!st.isFile() || st.size > MAX_LADDER_JSON_BYTES) throw new CheckpointError(formatError('play --npc', `ladder.json to be a regular file of at most ${MAX_LADDER_JSON_BYTES} bytes`, `${describe(path)} (${st.isFile() ? `${st.size} bytes` : 'not a regular file'})`, 'export the ladder again with npcforge export <run> --ladder N'));
  return parseLadderFile(await fs.readFile(path, 'utf8'));
}

/** Games that have an NPC page, with the page folder relative to the package root. */
export const NPC_PAGES: Record<string, string> = { pong: join('dist', 'pong-npc') };

export interface NpcPlayServerOptions {
  game: string;
  /** Policy bundle folder (policy.json, model.json, weights.bin), or a ladder folder (ladder.json). */
  bundleDir: string;
  /** With a ladder folder: the level `/` opens (default: the first, weakest). */
  ladderLevel?: string;
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

// .mjs/.wasm: onnxruntime-web's runtime files (a module script and WebAssembly need their MIME types); .onnx: policy.onnx.
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Starts the server; resolves once it listens. */
export async function startNpcPlayServer(o: NpcPlayServerOptions): Promise<NpcPlayServer> {
  const pageRel = NPC_PAGES[o.game];
  if (!pageRel) throw new InvalidConfigError(formatError('play --npc', `a game with an NPC page (${Object.keys(NPC_PAGES).join(', ')})`, describe(o.game), 'play one of the listed games against an NPC'));
  const pageDir = resolve(o.pageDir ?? resolve(o.root, pageRel));
  if (!existsSync(join(pageDir, 'index.html'))) throw new CheckpointError(formatError('play --npc', `the built page ${pageDir}/index.html`, 'a missing file', 'run `npm run build` (scripts/build.mjs bundles the page)'));
  const isLadder = existsSync(join(resolve(o.bundleDir), 'ladder.json'));
  if (!isLadder && !existsSync(join(resolve(o.bundleDir), 'policy.json'))) throw new CheckpointError(formatError('play --npc', 'a policy bundle folder with policy.json (or a ladder folder with ladder.json)', describe(o.bundleDir), 'pass the folder written by npcforge export'));
  const firstLevel = isLadder ? (o.ladderLevel ?? (await readLadder(resolve(o.bundleDir))).levels[0]!.name) : null;
  // Real paths once: every served file's real path must stay inside one of them.
  const page = await fs.realpath(pageDir);
  const bundle = await fs.realpath(resolve(o.bundleDir));
  const handle: RouteHandler = async (req, res, head) => {
    const seg = decodePath(req.url ?? '/');
    if (firstLevel !== null && seg.length === 1 && seg[0] === '') {
      const query = new URLSearchParams((req.url ?? '/').split('?')[1] ?? '');
      if (!query.has('level')) {
        query.set('level', firstLevel);
        res.writeHead(302, { location: `/?${query}` }).end();
        return;
      }
    }
    const [base, rest] = seg[0] === 'npc' && seg.length > 1 ? [bundle, seg.slice(1)] : [page, seg[0] === '' ? ['index.html'] : seg];
    const path = join(base, ...rest);
    await sendFile(res, { root: base, path, type: TYPES[extname(path)] ?? 'application/octet-stream', head });
  };
  const server = await startLocalServer({ component: 'play --npc', host: o.host ?? '127.0.0.1', port: o.port ?? 0, handle });
  return { url: server.url, server: server.server, close: () => server.close() };
}
