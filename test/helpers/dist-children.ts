/**
 * What the distributed tests share: `npcforge` child processes (bin/npcforge.js) with their output
 * collected, polling until a condition holds, and the stream entries a learner has not acknowledged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listCheckpoints } from '../../src/train/run-folder.js';
import type { Redis } from 'ioredis';
import type { distKeys } from '../../src/distributed/run-meta.js';

const cli = resolve(__dirname, '..', '..', 'bin', 'npcforge.js');

export interface Child {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<number | null>;
}

/** Starts `npcforge <args>`; `done` resolves with its exit code (null when killed by a signal). */
export function start(args: string[]): Child {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (err += String(d)));
  const done = new Promise<number | null>((ok) => proc.on('close', (code) => ok(code)));
  return { proc, out: () => out, err: () => err, done };
}

/** stderr lines without the compute-backend notice. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('npcforge: compute backend'));
}

/** Polls `cond` every 50 ms; throws naming `what` after `timeoutMs`. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 150_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the one run under `out` has a checkpoint; returns the run folder. */
export async function untilCheckpoint(out: string): Promise<string> {
  let runDir = '';
  await until('a checkpoint', () => {
    const sub = existsSync(out) ? readdirSync(out)[0] : undefined;
    runDir = sub ? join(out, sub) : '';
    return runDir !== '' && listCheckpoints(runDir).length > 0;
  });
  return runDir;
}

/** Stream entries the learner has not acknowledged: pending ones plus those after the group's last delivered id. */
export async function notAcknowledged(client: Redis, keys: ReturnType<typeof distKeys>): Promise<number> {
  const group = ((await client.xinfo('GROUPS', keys.stream)) as unknown[][])[0]!;
  const lastDelivered = String(group[group.indexOf('last-delivered-id') + 1]);
  const unread = (await client.xrange(keys.stream, `(${lastDelivered}`, '+')).length;
  const pending = Number(((await client.xpending(keys.stream, keys.group)) as unknown[])[0]);
  return unread + pending;
}

/** The sum of a Redis hash of counts. */
export const sum = (h: Record<string, string>): number => Object.values(h).reduce((a, v) => a + Number(v), 0);

/**
 * The exit codes of `children` once all have ended; after `timeoutMs`, kills them and throws with
 * each one's last stderr lines, so a hang says who waited for what.
 */
export async function settle(what: string, children: Child[], timeoutMs = 240_000): Promise<Array<number | null>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      for (const c of children) c.proc.kill('SIGKILL');
      const tails = children.map((c, i) => `#${i} (exit ${c.proc.exitCode}): ${lines(c.err()).slice(-6).join(' | ')}`);
      fail(new Error(`timed out waiting for ${what}: ${tails.join('; ')}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.all(children.map((c) => c.done)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
