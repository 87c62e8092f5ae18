/**
 * What both local HTTP servers (`npcforge view`, `npcforge play --npc`) share: request paths decoded
 * once and checked, files confined to their folder by real path, regular files only (opened so a
 * FIFO can never block), streamed with backpressure, a `Host` check against DNS rebinding, GET/HEAD
 * only, and a request handler whose errors never reach the process. Node built-ins only: no tfjs.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { sep } from 'node:path';
import { InvalidConfigError, PortInUseError, formatError, describe } from '../errors.js';

/** Longest request target accepted (bytes); longer ones get 414 before any work. */
export const MAX_URL_LENGTH = 4096;

/** An HTTP answer other than 200, thrown by route handlers and turned into a response. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Splits the path of a request target into decoded segments (`/` gives `['']`, a trailing slash is
 * dropped). A bad escape is a 400; a segment that could leave its folder once decoded (`.`, `..`,
 * empty, holding `/`, `\` or NUL) is a 404, so no caller ever joins such a name onto a folder.
 */
export function decodePath(rawUrl: string): string[] {
  if (rawUrl.length > MAX_URL_LENGTH) throw new HttpError(414, 'URL too long');
  const q = rawUrl.indexOf('?');
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) throw new HttpError(400, 'bad path');
  const parts = path.slice(1).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const out = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new HttpError(400, 'bad escape');
    }
  });
  if (out.length === 1 && out[0] === '') return out;
  for (const d of out) {
    if (d === '' || d === '.' || d === '..' || /[/\\\0]/.test(d)) throw new HttpError(404, 'not found');
  }
  return out;
}

/** The real path of `path` (symlinks resolved) if it lies inside the real folder `root`; else a 404. */
export async function realInside(root: string, path: string): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(path);
  } catch {
    throw new HttpError(404, 'not found');
  }
  if (real !== root && !real.startsWith(root + sep)) throw new HttpError(404, 'not found');
  return real;
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer and wedge the request.
// Regular files ignore the flag. Windows has no such flag (and no FIFOs to open this way).
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/** Opens a regular file for reading (never blocking on a FIFO or device); a 404 for anything else. */
export async function openRegularFile(path: string): Promise<{ handle: fs.FileHandle; size: number; id: string }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, OPEN_FLAGS);
  } catch {
    throw new HttpError(404, 'not found');
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new HttpError(404, 'not found');
    return { handle, size: st.size, id: `${st.dev}-${st.ino}` };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err instanceof HttpError ? err : new HttpError(404, 'not found');
  }
}

const COMMON_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

/** Sends a whole small body (JSON, errors). */
export function sendBody(res: ServerResponse, status: number, type: string, body: string | Uint8Array, head: boolean): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

export interface SendFileOptions {
  /** Real path of the folder the file must stay inside. */
  root: string;
  /** Path of the file (may hold symlinks; its real path is checked against `root`). */
  path: string;
  /** Content-Type header. */
  type: string;
  /** true for HEAD: headers only. */
  head: boolean;
  /**
   * Serve the bytes from this offset on (a growing log read in pieces), with the file's size and
   * identity in FILE_SIZE_HEADER / FILE_ID_HEADER; an offset past the end gives an empty body (the
   * size tells the client the file shrank). An offset rather than a Range header: "nothing new yet"
   * would be a 416, which browsers log as a console error at every poll.
   */
  from?: number;
}

/** Response header naming the file's identity (device and inode): a client reading a file in pieces sees it was replaced. */
export const FILE_ID_HEADER = 'X-Npcforge-File-Id';
/** Response header with the file's whole size when a part of it is served (`from`). */
export const FILE_SIZE_HEADER = 'X-Npcforge-File-Size';

/** The `from` query parameter of a request target: a byte offset, undefined when absent; a 400 when malformed. */
export function fromOffset(rawUrl: string): number | undefined {
  const q = rawUrl.indexOf('?');
  if (q < 0) return undefined;
  const params = new URLSearchParams(rawUrl.slice(q + 1));
  const v = params.get('from');
  if (v === null) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new HttpError(400, 'from must be a byte offset');
  return Number(v);
}

/**
 * Streams one regular file inside `root` with backpressure, so memory stays small whatever its
 * size. The length is fixed when the file is opened: a file that shrinks mid-stream ends the
 * connection (the client sees a short body, never a hang); a file deleted mid-stream is still read
 * through the open handle; a file that grows is cut at the announced length.
 */
export async function sendFile(res: ServerResponse, o: SendFileOptions): Promise<void> {
  const real = await realInside(o.root, o.path);
  const { handle, size, id } = await openRegularFile(real);
  const start = Math.min(o.from ?? 0, size);
  const length = size - start;
  const extra = o.from !== undefined ? { [FILE_ID_HEADER]: id, [FILE_SIZE_HEADER]: String(size) } : {};
  res.writeHead(200, { ...COMMON_HEADERS, ...extra, 'Content-Type': o.type, 'Content-Length': length });
  if (o.head || length === 0) {
    await handle.close().catch(() => undefined);
    res.end();
    return;
  }
  const stream = handle.createReadStream({ start, end: start + length - 1, highWaterMark: 64 * 1024 });
  await new Promise<void>((done) => {
    let finished = false;
    const finish = (ok: boolean): void => {
      if (finished) return;
      finished = true;
      if (ok) res.end();
      else {
        stream.destroy();
        res.destroy();
      }
      done();
    };
    stream.on('error', () => finish(false));
    stream.on('end', () => finish(stream.bytesRead === length));
    res.on('close', () => finish(res.writableFinished));
    stream.pipe(res, { end: false });
  });
}

/** The Host header value a browser sends for `host:port` (IPv6 literals in brackets, port always). */
function authority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`.toLowerCase();
}

/**
 * Whether a request's Host header names this server. Against DNS rebinding (a web page whose domain
 * suddenly resolves to 127.0.0.1 could otherwise read our answers) only loopback names, the bound
 * host and, when bound to every interface, IP literals (a rebinding page always sends its domain
 * name) are accepted, each with the bound port.
 */
export function hostAllowed(header: string | undefined, bound: { host: string; port: number }): boolean {
  if (header === undefined || header === '') return false;
  const h = header.trim().toLowerCase();
  const withPort = bound.port === 80 && !/:\d+$/.test(h) ? `${h}:80` : h;
  const names = ['127.0.0.1', 'localhost', '::1', bound.host.toLowerCase()];
  if (names.some((n) => authority(n, bound.port) === withPort)) return true;
  if (bound.host === '0.0.0.0' || bound.host === '::') {
    const m = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+)):(\d+)$/.exec(withPort);
    return m !== null && Number(m[3]) === bound.port && isIP(m[1] ?? m[2]!) !== 0;
  }
  return false;
}

/** Answers one request whose method (GET/HEAD), Host and URL length were already checked. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, head: boolean) => Promise<void>;

export interface LocalServerOptions {
  /** Component name for error messages, e.g. `npcforge view`. */
  component: string;
  /** Interface to bind. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  handle: RouteHandler;
}

export interface LocalServer {
  /** Base URL, e.g. `http://127.0.0.1:7070/`. */
  url: string;
  port: number;
  host: string;
  server: Server;
  close(): Promise<void>;
}

function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Only our own HttpError messages go to the client: they never hold paths or file contents.
  const status = err instanceof HttpError ? err.status : 500;
  const message = err instanceof HttpError ? err.message : 'internal error';
  if (status === 405) res.setHeader('Allow', 'GET, HEAD');
  sendBody(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: message }), req.method === 'HEAD');
}

/** Starts a loopback-style HTTP server around `handle`; resolves once it listens. No request can end the process. */
export async function startLocalServer(o: LocalServerOptions): Promise<LocalServer> {
  let port = o.port;
  const server = createServer((req, res) => {
    const head = req.method === 'HEAD';
    const run = async (): Promise<void> => {
      if (req.method !== 'GET' && !head) throw new HttpError(405, 'method not allowed');
      if (!hostAllowed(req.headers.host, { host: o.host, port })) throw new HttpError(403, 'unexpected Host header; open the URL the command printed (127.0.0.1 or localhost)');
      if ((req.url ?? '').length > MAX_URL_LENGTH) throw new HttpError(414, 'URL too long');
      await o.handle(req, res, head);
    };
    run().catch((err: unknown) => {
      try {
        sendError(req, res, err);
      } catch {
        res.destroy();
      }
    });
  });
  // Malformed requests (bad request line, headers over the limit) never reach the handler.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((ok, no) => {
    const onError = (err: NodeJS.ErrnoException): void => no(listenError(o, err));
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      ok();
    });
  });
  // After listening, a server-level error must not become an uncaught exception.
  server.on('error', () => undefined);
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`,
    port,
    host: o.host,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

function listenError(o: LocalServerOptions, err: NodeJS.ErrnoException): Error {
  const where = `${o.host}:${o.port}`;
  if (err.code === 'EADDRINUSE') return new PortInUseError(formatError(o.component, 'a free port', `port ${o.port} on ${o.host}, already in use`, `pass another --port (e.g. --port ${o.port === 65535 ? 8080 : o.port + 1}, or --port 0 for any free port)`));
  if (err.code === 'EACCES') return new PortInUseError(formatError(o.component, 'a port this user may bind', `${where} (permission denied)`, 'pass a --port above 1023, or --port 0 for any free port'));
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new InvalidConfigError(formatError(o.component, 'a --host of this machine', describe(o.host), 'pass --host 127.0.0.1'));
  return err;
}
