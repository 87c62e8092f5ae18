/**
 * `redis://[user:password@]host[:port][/<name>]` addresses of the distributed commands, and a quick
 * reachability check so that an unreachable Redis is one line and an exit, not a client retrying
 * forever. The path is npcforge's name (queue or run), not Redis's database number.
 */
import { Redis } from 'ioredis';
import { ConnectionError, InvalidConfigError, describe, formatError } from '../errors.js';

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The name after the host (queue or run name). */
  name: string;
  /** The address without the password, for messages. */
  display: string;
}

/** Names after the host: no separators, no colon (BullMQ job ids and Redis key prefixes use them). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Parses a Redis address; `defaultName` is used when the URL has no path. */
export function parseRedisUrl(text: string, options: { component: string; defaultName?: string }): RedisTarget {
  const fail = (why: string): never => {
    throw new InvalidConfigError(formatError(options.component, `a Redis address redis://host:port/<name>${options.defaultName ? ' (name optional)' : ''}`, `${describe(text)} (${why})`, 'pass e.g. redis://127.0.0.1:6379/npcforge'));
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') fail(`scheme ${url.protocol} is not redis: or rediss:`);
  if (!url.hostname) fail('no host');
  const port = url.port ? Number(url.port) : 6379;
  if (url.search || url.hash) fail('query or fragment given');
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const name = path || options.defaultName;
  if (!name) fail('no name after the host');
  if (!NAME.test(name!)) fail(`name ${describe(name)} is not letters, digits, '.', '_', '-' (at most 64)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    tls: url.protocol === 'rediss:',
    name: name!,
    display: `${url.protocol}//${url.host}/${name}`,
  };
}

/** ioredis options for a target (BullMQ takes the same object as `connection`). */
export function redisOptions(t: RedisTarget): { host: string; port: number; username?: string; password?: string; tls?: object } {
  return { host: t.host, port: t.port, ...(t.username ? { username: t.username } : {}), ...(t.password ? { password: t.password } : {}), ...(t.tls ? { tls: {} } : {}) };
}

/** Connects once (no retries) and PINGs; throws a one-line ConnectionError when Redis cannot be reached. */
export async function checkRedis(t: RedisTarget, options: { component: string; timeoutMs?: number }): Promise<void> {
  const client = new Redis({ ...redisOptions(t), lazyConnect: true, connectTimeout: options.timeoutMs ?? 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis emits the socket's error (ECONNREFUSED, ENOTFOUND) as an event and rejects with a
  // generic "Connection is closed": keep the first for the message.
  let cause: Error | null = null;
  client.on('error', (err: Error) => void (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const e = (cause ?? err) as NodeJS.ErrnoException;
    const code = e.code ?? e.message;
    throw new ConnectionError(formatError(options.component, `a reachable Redis at ${t.display}`, String(code).slice(0, 120), 'start redis-server there (or pass the right host:port)'));
  } finally {
    client.disconnect();
  }
}
