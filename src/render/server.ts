/**
 * Local HTTP server of the replay viewer (`npcforge view`). Serves the bundled app and, read-only,
 * the run folders under one root: `runs/<run>/episodes/*.npcep` and `runs/<run>/metrics.jsonl`.
 * Nothing else is reachable: every path segment is decoded once and checked against a strict name
 * pattern, and the resolved real path (symlinks followed) must stay inside the root. The request
 * checks and file streaming shared with the play server live in `static-files.ts`.
 */
import { existsSync, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { NO_FRAMES_MARKER } from '../replay/episodes/no-frames.js';
import { HttpError, decodePath, fromOffset, openRegularFile, realInside, sendBody, sendFile, startLocalServer } from './static-files.js';
import { STATUS_FILE, classifyRunStatus, readRunStatus, type RunState, type RunStatusFile } from '../train/run-status.js';
import { pidAlive } from '../train/run-folder.js';

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

/** Decodes the request path; every segment but the root's must be a plain name. */
function segments(rawUrl: string): string[] {
  const seg = decodePath(rawUrl);
  if (seg.length === 1 && seg[0] === '') return seg;
  if (!seg.every((d) => NAME.test(d))) throw new HttpError(404, 'not found');
  return seg;
}

/** One row of `/api/runs`. */
export interface RunSummary {
  name: string;
  /** Number of episode files. */
  episodes: number;
  /** Whether the run has a metrics.jsonl file. */
  metrics: boolean;
  /** False when the run's game has no render(), so it records no episodes (marker file NO_FRAMES_MARKER, see replay/episodes/no-frames.ts). */
  drawable: boolean;
  /** Game id, agent and seed from the run's config.json (absent when it has none, or it is unreadable or too large). */
  game?: string;
  agent?: string;
  seed?: number;
  /** From status.json (absent for runs written before it existed): see train/run-status.ts. */
  status?: RunState;
}

/** The game, agent and seed of a run's config.json, each only where it has its type. */
type RunMeta = Pick<RunSummary, 'game' | 'agent' | 'seed'>;

/** Largest config.json the listing reads (a resolved config is a few kB; larger ones get no metadata). */
export const MAX_LISTED_CONFIG_BYTES = 256 * 1024;
/** Game and agent ids shown and filtered on: printable, short, no markup. */
const META_ID = /^[A-Za-z0-9_][A-Za-z0-9._:/-]{0,99}$/;

/** Reads the game, agent and seed of `<runDir>/config.json` (untrusted: regular file, bounded, fields checked). */
export async function readRunMeta(runDir: string): Promise<RunMeta> {
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(join(runDir, 'config.json'));
  } catch {
    return {};
  }
  const { handle, size } = opened;
  try {
    if (size > MAX_LISTED_CONFIG_BYTES) return {};
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buf, 0, size, 0);
    const v = JSON.parse(buf.subarray(0, bytesRead).toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    const o = v as { game?: unknown; agent?: unknown; run?: { seed?: unknown } };
    const meta: RunMeta = {};
    if (typeof o.game === 'string' && META_ID.test(o.game)) meta.game = o.game;
    if (typeof o.agent === 'string' && META_ID.test(o.agent)) meta.agent = o.agent;
    const seed = o.run && typeof o.run === 'object' ? o.run.seed : undefined;
    if (Number.isSafeInteger(seed)) meta.seed = seed as number;
    return meta;
  } catch {
    return {};
  } finally {
    await handle.close().catch(() => undefined);
  }
}

interface CachedRun {
  summary: RunSummary;
  /** mtimes (ms) of the run folder and of its episodes folder (-1 = none) when it was scanned. */
  runMtime: number;
  episodesMtime: number;
  /** status.json as last read (file null: not a valid status file), with the inode and size it was read at. */
  status: { file: RunStatusFile | null; ino: number; size: number } | null;
}

/**
 * mtimes this close to the scan (ms) are not trusted: on file systems with coarse timestamps a
 * change in the same tick would not move them (the "racy" case git's index also guards against).
 */
const RACY_MS = 2000;
/** Run folders scanned at once (each scan is a readdir plus a stat per episode). */
const SCAN_CONCURRENCY = 16;

/**
 * The `/api/runs` listing, cached per run folder: a run is scanned again only when the mtime of its
 * folder (metrics.jsonl created or removed) or of its episodes folder (episodes added, removed or
 * renamed) changed, so a refresh of a root with 500 runs x 20 episodes costs two stats per run.
 */
export class RunsListing {
  private readonly cache = new Map<string, CachedRun>();
  /** Run folders scanned since creation (tests check that a repeated listing scans none). */
  scans = 0;

  constructor(
    private readonly root: string,
    private readonly now: () => number = Date.now,
    private readonly host: string = hostname(),
    private readonly alive: (pid: number) => boolean = pidAlive,
  ) {}

  /** The runs under the root, sorted by name. */
  async list(): Promise<RunSummary[]> {
    const names = (await fs.readdir(this.root, { withFileTypes: true }))
      .filter((e) => NAME.test(e.name) && (e.isDirectory() || e.isSymbolicLink()))
      .map((e) => e.name);
    const out: RunSummary[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < names.length; i += SCAN_CONCURRENCY) {
      const rows = await Promise.all(names.slice(i, i + SCAN_CONCURRENCY).map((n) => this.run(n)));
      for (const r of rows) {
        if (!r) continue;
        seen.add(r.name);
        out.push(r);
      }
    }
    for (const name of this.cache.keys()) if (!seen.has(name)) this.cache.delete(name);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async run(name: string): Promise<RunSummary | null> {
    let real: string;
    let runMtime: number;
    try {
      real = await realInside(this.root, join(this.root, name));
      const st = await fs.stat(real);
      if (!st.isDirectory()) return null;
      runMtime = st.mtimeMs;
    } catch {
      return null;
    }
    const episodesMtime = await fs.stat(join(real, 'episodes')).then((st) => st.mtimeMs, () => -1);
    const hit = this.cache.get(name);
    if (hit && hit.runMtime === runMtime && hit.episodesMtime === episodesMtime) return this.withStatus(hit, real, false);
    this.scans++;
    const episodes = (await listEpisodes(this.root, real)).length;
    const metrics = await fs.stat(join(real, 'metrics.jsonl')).then((s) => s.isFile(), () => false);
    const drawable = !(await fs.lstat(join(real, NO_FRAMES_MARKER)).then((s) => s.isFile(), () => false));
    const summary: RunSummary = { name, episodes, metrics, drawable, ...(await readRunMeta(real)) };
    const entry: CachedRun = { summary, runMtime, episodesMtime, status: null };
    const settled = this.now() - RACY_MS;
    if (runMtime < settled && episodesMtime < settled) this.cache.set(name, entry);
    else this.cache.delete(name);
    return this.withStatus(entry, real, true);
  }

  /**
   * The summary with the run's current state. Only a `running` file costs a stat per listing (its
   * heartbeat, the mtime, goes stale without any write); every other change renames a new
   * status.json in, which moves the folder's mtime and rescans the run (`scanned`). The content is
   * read again only when the file is another one or changed size.
   */
  private async withStatus(entry: CachedRun, real: string, scanned: boolean): Promise<RunSummary> {
    if (!scanned && entry.status?.file?.state !== 'running') return entry.status?.file ? { ...entry.summary, status: entry.status.file.state } : entry.summary;
    const st = await fs.stat(join(real, STATUS_FILE)).catch(() => null);
    if (!st) {
      entry.status = null;
      return entry.summary;
    }
    if (!entry.status || entry.status.ino !== st.ino || entry.status.size !== st.size) {
      entry.status = { file: (await readRunStatus(real))?.file ?? null, ino: st.ino, size: st.size };
    }
    const file = entry.status.file;
    if (!file) return entry.summary;
    return { ...entry.summary, status: classifyRunStatus({ file, mtimeMs: st.mtimeMs }, { now: this.now(), host: this.host, pidAlive: this.alive }) };
  }
}

async function listEpisodes(root: string, runDir: string): Promise<Array<{ name: string; bytes: number; modified: string }>> {
  let dir: string;
  try {
    dir = await realInside(root, join(runDir, 'episodes'));
  } catch {
    return [];
  }
  const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(EPISODE_EXT) && NAME.test(f));
  const rows = await Promise.all(
    files.map(async (f) => {
      try {
        const real = await realInside(root, join(dir, f));
        const st = await fs.stat(real);
        return st.isFile() ? { name: f.slice(0, -EPISODE_EXT.length), bytes: st.size, modified: st.mtime.toISOString() } : null;
      } catch {
        return null;
      }
    }),
  );
  return rows.filter((r) => r !== null).sort((a, b) => compareEpisodeNames(a.name, b.name));
}

/**
 * Episode names in the order they were made: digit runs compare as numbers, so
 * `eval-step2500-s7-e000` comes before `eval-step10000-s7-e000` (by step, then seed and index).
 */
export function compareEpisodeNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);
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
  const runs = new RunsListing(root);

  const handle = async (req: IncomingMessage, res: ServerResponse, head: boolean): Promise<void> => {
    const seg = segments(req.url ?? '/');
    const json = (v: unknown): void => sendBody(res, 200, 'application/json; charset=utf-8', JSON.stringify(v), head);
    if (seg.length === 1 && (seg[0] === '' || ASSET.test(seg[0]!))) {
      const name = seg[0] === '' ? 'index.html' : seg[0]!;
      let assetsReal: string;
      try {
        assetsReal = await fs.realpath(assets);
      } catch {
        assetsReal = '';
      }
      try {
        if (!assetsReal) throw new HttpError(404, 'not found');
        await sendFile(res, { root: assetsReal, path: join(assetsReal, name), type: TYPES[name.split('.').pop()!]!, head });
      } catch (err) {
        if (name === 'index.html' && err instanceof HttpError && err.status === 404) throw new HttpError(500, `viewer bundle missing in ${assets}; run \`npm run build\``);
        throw err;
      }
      return;
    }
    if (seg[0] !== 'api') throw new HttpError(404, 'not found');
    if (seg.length === 2 && seg[1] === 'runs') return json(await runs.list());
    if (seg.length >= 4 && seg[1] === 'runs') {
      const runDir = await realInside(root, join(root, seg[2]!));
      if (seg.length === 4 && seg[3] === 'episodes') return json(await listEpisodes(root, runDir));
      if (seg.length === 4 && seg[3] === 'metrics') {
        // ?from=<byte offset>: a live page fetches only what was appended since its last read.
        return sendFile(res, { root, path: join(runDir, 'metrics.jsonl'), type: 'application/x-ndjson; charset=utf-8', head, from: fromOffset(req.url ?? '') ?? 0 });
      }
      if (seg.length === 5 && seg[3] === 'episodes') {
        return sendFile(res, { root, path: join(runDir, 'episodes', seg[4]! + EPISODE_EXT), type: 'application/octet-stream', head });
      }
    }
    throw new HttpError(404, 'not found');
  };

  const server = await startLocalServer({ component: 'npcforge view', host, port, handle });
  return { url: server.url, port: server.port, host, close: () => server.close() };
}
