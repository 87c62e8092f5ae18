/**
 * The long-lived Redis connection of an actor or a learner: ioredis reconnects with a capped
 * exponential backoff and keeps commands queued meanwhile, so a restarted Redis costs a pause, not
 * the process. An outage is reported once when it starts and once when it ends.
 */
import { Redis } from 'ioredis';
import { redisOptions, type RedisTarget } from './redis-url.js';

/** Milliseconds before reconnect attempt `times` (1, 2, ...): 100 ms doubling up to 5 s. */
export function reconnectDelay(times: number): number {
  return Math.min(5000, 100 * 2 ** Math.min(6, times - 1));
}

/** A connection that retries forever; `say` gets one line per outage start and end. `onBack` runs after each reconnect. */
export function retryingRedis(target: RedisTarget, options: { who: string; say: (line: string) => void; onBack?: () => void }): Redis {
  const client = new Redis({ ...redisOptions(target), retryStrategy: reconnectDelay, maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: false });
  let down = false;
  const lost = (why: string): void => {
    if (down) return;
    down = true;
    options.say(`${options.who}: lost Redis at ${target.display} (${why}); retrying with backoff up to 5 s`);
  };
  client.on('error', (err: NodeJS.ErrnoException) => lost(String(err.code ?? err.message).slice(0, 80)));
  client.on('reconnecting', () => lost('connection closed'));
  client.on('ready', () => {
    if (!down) return;
    down = false;
    options.say(`${options.who}: Redis at ${target.display} is back`);
    options.onBack?.();
  });
  return client;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
