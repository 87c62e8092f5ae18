/**
 * Local HTTP server of the replay viewer (`npcforge view`). Serves the bundled app and, read-only,
 * the run folders under one root: `runs/<run>/episodes/*.npcep`, `runs/<run>/metrics.jsonl` and the
 * `.json`/`.bin` files of the exported policy bundle `runs/<run>/policy/`.
 * Nothing else is reachable: every path segment is decoded once and checked against a strict name
 * pattern, and the resolved real path (symlinks followed) must stay inside the root. The request
 * checks and file streaming shared with the play server live in `static-files.ts`.
 */
import { existsSync, promises as fs, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../errors.js';
import { NO_FRAMES_MARKER } from '../replay/episodes/no-frames.js';
import { HttpError, decodePath, fromOffset, openRegularFile, realInside, sendBody, sendFile, startLocalServer } from './static-files.js';
import { STATUS_FILE, classifyRunStatus, readRunStatus, type RunState, type RunStatusFile } from '../train/run-status.js';
import { pidAlive } from '../train/run-folder.js';
import { EpisodeSummaries } from './episode-summaries.js';
import { readSupervisedView } from './supervised-files.js';
import type { EpisodeRow, RunKind, ViewerSource } from './api-types.js';

export type { EpisodeRow, RunKind, ViewerSource };

export interface ViewerServerOptions {
  /**
   * What to serve: a folder of run folders, one run folder (it holds `config.json`, `run.json`,
   * `metrics.jsonl` or `episodes/`), any folder of `.npcep` files, or one `.npcep` file. A folder
   * of episodes or a single file is shown as one pseudo-run named after it.
   */
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
/** Files of a run's exported policy bundle the viewer may read (policy.json, model.json, weights): JSON and weight shards only. */
const POLICY_FILE = /\.(json|bin)$/;
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
  /** `rl`: a run of `npcforge train` (or any run folder); `supervised`: a run of `npcforge fit` (it holds run.json); `episodes`: a folder of episode files or one file. */
  kind: RunKind;
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
    const summary = await summarizeRun(this.root, name, real, await runEpisodesDir(real));
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

/**
 * Where a run folder keeps its episodes: `episodes/` as train and record write them, else the
 * folder itself (a folder of `.npcep` files in the runs folder, e.g. `record --out runs/<name>`).
 */
async function runEpisodesDir(runDir: string): Promise<string> {
  const sub = join(runDir, 'episodes');
  return (await fs.stat(sub).then((st) => st.isDirectory(), () => false)) ? sub : runDir;
}

/** The `/api/runs` row of one run folder (`real`, its real path) whose episodes are in `episodesDir`. */
async function summarizeRun(root: string, name: string, real: string, episodesDir: string, only?: string): Promise<RunSummary> {
  const isFile = (f: string): Promise<boolean> => fs.lstat(join(real, f)).then((s) => s.isFile(), () => false);
  const episodes = (await episodeFiles(root, episodesDir, only)).length;
  const metrics = await fs.stat(join(real, 'metrics.jsonl')).then((s) => s.isFile(), () => false);
  const drawable = !(await isFile(NO_FRAMES_MARKER));
  const supervised = await isFile('run.json');
  // A folder that holds its episodes itself (not in episodes/) was made by `record --out` or by hand.
  const kind: RunKind = only !== undefined || (real === episodesDir && episodes > 0 && !supervised) ? 'episodes' : supervised ? 'supervised' : 'rl';
  return { name, kind, episodes, metrics, drawable, ...(await readRunMeta(real)) };
}

/** The `.npcep` files of a folder (real paths inside `root`, regular files only), unsorted; `only` keeps one name. */
async function episodeFiles(root: string, episodesDir: string, only?: string): Promise<Array<{ name: string; real: string; stat: Stats; bytes: number; modified: string }>> {
  let dir: string;
  try {
    dir = await realInside(root, episodesDir);
  } catch {
    return [];
  }
  const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(EPISODE_EXT) && NAME.test(f) && (only === undefined || f === only));
  const rows = await Promise.all(
    files.map(async (f) => {
      try {
        const real = await realInside(root, join(dir, f));
        const st = await fs.stat(real);
        return st.isFile() ? { name: f.slice(0, -EPISODE_EXT.length), real, stat: st, bytes: st.size, modified: st.mtime.toISOString() } : null;
      } catch {
        return null;
      }
    }),
  );
  return rows.filter((r) => r !== null);
}

/** Episodes listed in the order they were made (compareEpisodeNames), each with its return and length. */
async function listEpisodes(root: string, episodesDir: string, summaries: EpisodeSummaries, only?: string): Promise<EpisodeRow[]> {
  const files = (await episodeFiles(root, episodesDir, only)).sort((a, b) => compareEpisodeNames(a.name, b.name));
  const out: EpisodeRow[] = [];
  // A few at a time: each read is two small reads of one file.
  for (let i = 0; i < files.length; i += SCAN_CONCURRENCY) {
    const part = files.slice(i, i + SCAN_CONCURRENCY);
    const results = await Promise.all(part.map((f) => summaries.get(f.real, f.stat)));
    part.forEach((f, j) => {
      const r = results[j]!;
      out.push({ name: f.name, bytes: f.bytes, modified: f.modified, ...(r.ok ? { summary: r.summary } : { error: r.problem }) });
    });
  }
  return out;
}

/** A name for a folder or file given on the command line, as the API accepts run names. */
function sourceName(path: string, fallback: string): string {
  const n = basename(path).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]+/, '').slice(0, 200);
  return NAME.test(n) ? n : fallback;
}

/** Where the served runs are: the containment root, and how run names map to folders. */
interface Layout {
  source: ViewerSource;
  /** Real folder nothing is served from outside of. */
  root: string;
  /** The real run folder of a run name (a 404 for names it does not serve). */
  runDir(name: string): Promise<string>;
  /** The folder of a run's episode files. */
  episodesDir(runDir: string): Promise<string>;
  /** Single-file mode: the one file name served. */
  only?: string;
}

/** Episode folders and files are served as episodes only: no metrics or run files from around them. */
const episodesOnly = (source: ViewerSource): boolean => source.kind === 'episodes' || source.kind === 'episode';

/**
 * Decides what the path given to `view` is: a `.npcep` file, a folder holding `.npcep` files, one
 * run folder, or (otherwise) a folder of runs. Returns null when the path is neither a folder nor a
 * regular file.
 */
async function layoutOf(given: string): Promise<Layout | null> {
  const real = await fs.realpath(resolve(given));
  const st = await fs.stat(real);
  if (st.isFile()) {
    if (!real.endsWith(EPISODE_EXT) || !NAME.test(basename(real))) return null;
    const name = sourceName(real.slice(0, -EPISODE_EXT.length), 'episode');
    const root = dirname(real);
    return { source: { kind: 'episode', name }, root, only: basename(real), runDir: async (n) => single(n, name, root), episodesDir: async (d) => d };
  }
  if (!st.isDirectory()) return null;
  const entries = await fs.readdir(real, { withFileTypes: true });
  const name = sourceName(real, 'run');
  if (entries.some((e) => e.name.endsWith(EPISODE_EXT) && NAME.test(e.name) && (e.isFile() || e.isSymbolicLink()))) {
    return { source: { kind: 'episodes', name }, root: real, runDir: async (n) => single(n, name, real), episodesDir: async (d) => d };
  }
  const runMarkers = ['config.json', 'run.json', 'metrics.jsonl', 'episodes'];
  if (entries.some((e) => runMarkers.includes(e.name))) {
    return { source: { kind: 'run', name }, root: real, runDir: async (n) => single(n, name, real), episodesDir: runEpisodesDir };
  }
  return { source: { kind: 'runs', name }, root: real, runDir: (n) => realInside(real, join(real, n)), episodesDir: runEpisodesDir };
}

function single(requested: string, name: string, dir: string): string {
  if (requested !== name) throw new HttpError(404, 'not found');
  return dir;
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
  let layout: Layout | null = null;
  try {
    layout = await layoutOf(options.root);
    if (!layout) bad.push(`root=${describe(options.root)} (neither a folder nor a .npcep file)`);
  } catch {
    bad.push(`root=${describe(options.root)} (missing)`);
  }
  if (bad.length || !layout) throw new InvalidConfigError(formatError('npcforge view', 'an existing runs folder, run folder, folder of .npcep files or .npcep file, a port in [0, 65535] and a host', bad.join(', '), 'pass e.g. `npcforge view runs --port 7070`'));
  const { root, source } = layout;
  const assets = resolve(options.assetsDir ?? defaultAssetsDir());
  const runs = new RunsListing(root);
  const summaries = new EpisodeSummaries();
  const listRuns = async (): Promise<RunSummary[]> => {
    if (source.kind === 'runs') return runs.list();
    const dir = await layout!.runDir(source.name);
    const row = await summarizeRun(root, source.name, dir, await layout!.episodesDir(dir), layout!.only);
    return [episodesOnly(source) ? { ...row, kind: 'episodes', metrics: false } : row];
  };

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
    if (seg.length === 2 && seg[1] === 'source') return json(source);
    if (seg.length === 2 && seg[1] === 'runs') return json(await listRuns());
    if (seg.length >= 4 && seg[1] === 'runs') {
      const runDir = await layout!.runDir(seg[2]!);
      const episodesDir = await layout!.episodesDir(runDir);
      if (seg.length === 4 && seg[3] === 'episodes') return json(await listEpisodes(root, episodesDir, summaries, layout!.only));
      if ((seg[3] === 'metrics' || seg[3] === 'supervised' || seg[3] === 'policy') && episodesOnly(source)) throw new HttpError(404, 'not found');
      if (seg.length === 4 && seg[3] === 'metrics') {
        // ?from=<byte offset>: a live page fetches only what was appended since its last read.
        return sendFile(res, { root, path: join(runDir, 'metrics.jsonl'), type: 'application/x-ndjson; charset=utf-8', head, from: fromOffset(req.url ?? '') ?? 0 });
      }
      if (seg.length === 4 && seg[3] === 'supervised') {
        const view = await readSupervisedView(root, runDir);
        if (view === null) throw new HttpError(404, 'not found');
        return json(view);
      }
      // The run's exported policy bundle (`npcforge export` writes <run>/policy/): the saliency panel loads it with loadPolicy.
      if (seg.length === 5 && seg[3] === 'policy' && POLICY_FILE.test(seg[4]!)) {
        return sendFile(res, { root, path: join(runDir, 'policy', seg[4]!), type: seg[4]!.endsWith('.json') ? 'application/json; charset=utf-8' : 'application/octet-stream', head });
      }
      if (seg.length === 5 && seg[3] === 'episodes') {
        const file = seg[4]! + EPISODE_EXT;
        if (layout!.only !== undefined && file !== layout!.only) throw new HttpError(404, 'not found');
        return sendFile(res, { root, path: join(episodesDir, file), type: 'application/octet-stream', head });
      }
    }
    throw new HttpError(404, 'not found');
  };

  const server = await startLocalServer({ component: 'npcforge view', host, port, handle });
  return { url: server.url, port: server.port, host, close: () => server.close() };
}
