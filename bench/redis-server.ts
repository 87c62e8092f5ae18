/**
 * A real redis-server for tests and benchmarks: started on a free loopback port with no
 * persistence, stopped after (`startRedis`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface TestRedis {
  port: number;
  url: (name?: string) => string;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      c.disconnect();
    }
  }
}

export async function startRedis(): Promise<TestRedis> {
  if (!hasRedisServer) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const port = await freePort();
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
    await waitForPing(port, 10_000);
  };
  const stop = async (): Promise<void> => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((ok) => c.once('exit', () => ok()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    child = null;
  };
  await launch();
  return { port, url: (name) => `redis://127.0.0.1:${port}${name ? `/${name}` : ''}`, stop, restart: launch };
}
