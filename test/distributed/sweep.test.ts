/**
 * Sweeps: the spec's checks and expansion, the in-process sweep, and the BullMQ queue against a
 * real redis-server (started on a free loopback port): two worker processes finish a 3 seeds x 2
 * learning rates sweep, a stopped worker's job is resumed by the next one, and bad input (an
 * unreachable Redis, a malformed job, a clashing spec) is one line each.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../src/errors.js';
import { expandSweep, parseSweepJob, parseSweepSpec, withSettings } from '../../src/distributed/sweep-spec.js';
import { parseRedisUrl } from '../../src/distributed/redis-url.js';
import { listCheckpoints } from '../../src/train/run-folder.js';
import { runCli } from '../helpers/run-cli.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../helpers/redis.js';

const cli = resolve(__dirname, '..', '..', 'bin', 'npcforge.js');
const tmp = mkdtempSync(join(tmpdir(), 'npcsweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeSpec(name: string, spec: object): string {
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, JSON.stringify(spec));
  return p;
}

/** Runs the CLI in a child process; resolves with its exit code and output. */
function cliChild(args: string[], options: { onStart?: (kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  options.onStart?.((sig) => child.kill(sig));
  return new Promise((ok) => child.on('close', (code) => ok({ code, out, err })));
}

describe('sweep specs', () => {
  const base = { name: 'lr', game: 'catch', steps: 1000, seeds: [0, 1, 2], grid: { 'optimizer.learningRate': [1e-3, 5e-4] } };

  it('expand to one job per grid point and seed, with fixed ids and run folders', () => {
    const jobs = expandSweep(parseSweepSpec(base, 'spec'));
    expect(jobs.map((j) => j.id)).toEqual(['lr-0', 'lr-1', 'lr-2', 'lr-3', 'lr-4', 'lr-5']);
    expect(jobs.map((j) => j.runPath)).toEqual(['lr/g0-s0', 'lr/g0-s1', 'lr/g0-s2', 'lr/g1-s0', 'lr/g1-s1', 'lr/g1-s2']);
    expect(jobs[4]!.config).toEqual({ optimizer: { learningRate: 5e-4 } });
    expect(jobs.every((j) => parseSweepJob(JSON.parse(JSON.stringify(j))) !== null)).toBe(true);
  });

  it('dotted grid keys set one field of a nested setting and keep the others', () => {
    expect(withSettings({ optimizer: { kind: 'adam', beta1: 0.8 }, batchSize: 32 }, { 'optimizer.learningRate': 1e-3, gamma: 0.9 })).toEqual({ optimizer: { kind: 'adam', beta1: 0.8, learningRate: 1e-3 }, batchSize: 32, gamma: 0.9 });
  });

  it('name every problem of a bad spec in one error', () => {
    const bad = { ...base, seeds: [0, 0], grid: { __proto__x: 1, 'a..b': [1], lr: [] }, config: { lr: 1 }, colour: 'red', name: 'a:b' };
    let err: unknown;
    try {
      parseSweepSpec(bad, 'spec.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    const problems = (err as InvalidConfigError & { problems: string[] }).problems.join('\n');
    for (const p of ['"colour" is not a sweep key', 'name = "a:b"', 'seeds lists a seed twice', 'grid.__proto__x', 'grid key "a..b"', 'grid.lr = array(0)']) expect(problems).toContain(p);
    expect(() => parseSweepSpec({ ...base, seeds: Array.from({ length: 101 }, (_, i) => i), grid: { a: Array(100).fill(1) } }, 'spec')).toThrow(/at most 10000/);
  });

  it('refuse a job read back from a queue in another shape', () => {
    const job = expandSweep(parseSweepSpec(base, 'spec'))[0]!;
    expect(parseSweepJob({ ...job, runPath: '../../etc' })).toBeNull();
    expect(parseSweepJob({ ...job, id: 'other-0' })).toBeNull();
    expect(parseSweepJob({ ...job, seed: -1 })).toBeNull();
    expect(parseSweepJob('x')).toBeNull();
  });

  it('parse redis addresses, and refuse other schemes and names', () => {
    expect(parseRedisUrl('redis://h:7000/q', { component: 't' })).toMatchObject({ host: 'h', port: 7000, name: 'q', tls: false });
    expect(parseRedisUrl('redis://u:secret@h', { component: 't', defaultName: 'd' })).toMatchObject({ port: 6379, name: 'd', password: 'secret', display: 'redis://h/d' });
    for (const bad of ['http://h/q', 'redis://h', 'redis://h/a:b', 'redis://h/q?x=1', 'nonsense']) expect(() => parseRedisUrl(bad, { component: 't' })).toThrow(InvalidConfigError);
  });
});

describe('sweep in this process', () => {
  it('trains every run, then reports finished runs without training them again', async () => {
    const spec = writeSpec('local', { game: 'catch', steps: 600, seeds: [0, 1], config: { evalEvery: 300, evalEpisodes: 2, checkpointEvery: 300 }, grid: { 'optimizer.learningRate': [1e-3, 5e-4] } });
    const out = join(tmp, 'local-runs');
    const first = await runCli(['sweep', spec, '--out', out, '--json']);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.out) as { rows: Array<{ id: string; state: string; result: { step: number; runDir: string; seconds: number } }>; points: Array<{ done: number }> };
    expect(a.rows.map((r) => [r.id, r.state, r.result.step])).toEqual([0, 1, 2, 3].map((i) => [`local-${i}`, 'completed', 600]));
    expect(a.points.map((p) => p.done)).toEqual([2, 2]);
    expect(existsSync(join(out, 'local', 'g1-s1', 'metrics.jsonl'))).toBe(true);
    const again = await runCli(['sweep', spec, '--out', out, '--json']);
    expect(again.code).toBe(0);
    const b = JSON.parse(again.out) as typeof a;
    expect(b.rows.map((r) => r.result.seconds)).toEqual([0, 0, 0, 0]);
    expect(b.points).toEqual(a.points);
  }, 120_000);

  it('refuses a bad setting before training anything', async () => {
    const spec = writeSpec('badset', { game: 'catch', steps: 600, seeds: [0], grid: { colour: ['red'] } });
    const r = await runCli(['sweep', spec, '--out', join(tmp, 'badset-runs')]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/unknown key "colour"/);
    expect(existsSync(join(tmp, 'badset-runs'))).toBe(false);
  });
});

describe.skipIf(skipWithoutRedis)('sweeps over a BullMQ queue (real redis-server)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two workers finish 3 seeds x 2 learning rates; the summary lists 6 results', async () => {
    const spec = writeSpec('six', { game: 'catch', steps: 1000, seeds: [0, 1, 2], config: { evalEvery: 500, evalEpisodes: 2 }, grid: { 'optimizer.learningRate': [1e-3, 5e-4] } });
    const url = redis.url('six-q');
    const q = await cliChild(['sweep', spec, '--queue', url]);
    expect(q.code).toBe(0);
    expect(q.out).toContain('queued 6 new jobs');
    expect((await cliChild(['sweep', spec, '--queue', url])).out).toContain('queued 0 new jobs');
    const out = join(tmp, 'worker-runs');
    const [w1, w2] = await Promise.all([cliChild(['worker', url, '--out', out, '--until-empty']), cliChild(['worker', url, '--out', out, '--until-empty'])]);
    expect([w1.code, w2.code]).toEqual([0, 0]);
    const done = (s: string): number => Number(/(\d+) jobs? done/.exec(s)?.[1] ?? NaN);
    expect(done(w1.err) + done(w2.err)).toBe(6);
    const st = await cliChild(['sweep', 'status', 'six', '--queue', url, '--json']);
    expect(st.code).toBe(0);
    const s = JSON.parse(st.out) as { rows: Array<{ state: string; seed: number; settings: Record<string, number>; result: { step: number; runDir: string; lastEval: number } }>; points: Array<{ done: number; seeds: number }> };
    expect(s.rows).toHaveLength(6);
    expect(s.rows.every((r) => r.state === 'completed' && r.result.step === 1000 && Number.isFinite(r.result.lastEval))).toBe(true);
    expect(new Set(s.rows.map((r) => `${r.settings['optimizer.learningRate']}/${r.seed}`)).size).toBe(6);
    expect(s.points.map((p) => `${p.done}/${p.seeds}`)).toEqual(['3/3', '3/3']);
    for (const r of s.rows) expect(listCheckpoints(r.result.runDir)).toContain(1000);
    const table = await cliChild(['sweep', 'status', 'six', '--queue', url]);
    expect(table.out.split('\n').filter((l) => /^six-\d/.test(l))).toHaveLength(6);
  }, 180_000);

  it('a worker stopped mid-run puts its job back; the next worker resumes the checkpoint', async () => {
    const spec = writeSpec('stop', { game: 'catch', steps: 20_000, seeds: [0], config: { checkpointEvery: 500, evalEvery: 0 } });
    const url = redis.url('stop-q');
    expect((await cliChild(['sweep', spec, '--queue', url])).code).toBe(0);
    const out = join(tmp, 'stop-runs');
    const runDir = join(out, 'stop', 'g0-s0');
    const first = await cliChild(['worker', url, '--out', out], {
      onStart: (kill) => {
        const poll = setInterval(() => {
          if (listCheckpoints(runDir).length) {
            clearInterval(poll);
            kill('SIGTERM');
          }
        }, 100);
      },
    });
    expect(first.code).toBe(143);
    expect(first.err).toMatch(/stop-0 stopped at step (\d+); back in the queue/);
    const stoppedAt = Number(/stopped at step (\d+)/.exec(first.err)![1]);
    expect(stoppedAt).toBeLessThan(20_000);
    const second = await cliChild(['worker', url, '--out', out, '--until-empty']);
    expect(second.code).toBe(0);
    expect(second.err).toContain(`resuming ${runDir} from its checkpoint at step ${stoppedAt}`);
    const st = JSON.parse((await cliChild(['sweep', 'status', 'stop', '--queue', url, '--json'])).out) as { rows: Array<{ state: string; attempts: number; result: { step: number } }> };
    expect(st.rows[0]).toMatchObject({ state: 'completed', result: { step: 20_000 } });
  }, 240_000);

  it('bad input: unreachable Redis, a clashing spec, a malformed job: one line each', async () => {
    const spec = writeSpec('clash', { game: 'catch', steps: 500, seeds: [0] });
    const dead = await cliChild(['sweep', spec, '--queue', 'redis://127.0.0.1:1/q']);
    expect(dead.code).not.toBe(0);
    expect(dead.err.trim().split('\n')).toHaveLength(1);
    expect(dead.err).toMatch(/expected a reachable Redis at redis:\/\/127\.0\.0\.1:1\/q, received ECONNREFUSED/);
    const deadWorker = await cliChild(['worker', 'redis://127.0.0.1:1', '--until-empty']);
    expect(deadWorker.code).not.toBe(0);
    expect(deadWorker.err.trim().split('\n')).toHaveLength(1);

    const url = redis.url('clash-q');
    expect((await cliChild(['sweep', spec, '--queue', url])).code).toBe(0);
    writeSpec('clash', { game: 'catch', steps: 700, seeds: [0] });
    const clash = await cliChild(['sweep', spec, '--queue', url]);
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(/queued .* with another spec; fix: give the sweep another "name"/);

    // Someone else's job on the queue: failed with a reason, the sweep's own job still trains.
    const queue = new Queue('clash-q', { connection: { host: '127.0.0.1', port: redis.port } });
    await queue.add('train', { sweep: 'x', evil: true, runPath: '../../../tmp/owned' }, { jobId: 'alien-0', attempts: 1 });
    await queue.close();
    const w = await cliChild(['worker', url, '--out', join(tmp, 'clash-runs'), '--until-empty']);
    expect(w.code).toBe(0);
    expect(w.err).toMatch(/alien-0 failed: job alien-0 is not an npcforge sweep job of this version/);
    expect(w.err).toMatch(/clash-0 done/);
    expect(existsSync('/tmp/owned')).toBe(false);
    const st = await cliChild(['sweep', 'status', 'nosuch', '--queue', url]);
    expect(st.code).toBe(2);
    expect(st.err.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
