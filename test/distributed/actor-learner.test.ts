/**
 * Actors and a learner over a real redis-server (started on a free loopback port), as child
 * processes of bin/npcforge.js: a killed actor loses nothing that was acknowledged and the counts
 * add up; a learner killed with SIGKILL resumes from its checkpoint, takes over what it had read
 * but not acknowledged, and its actor reconnects; bad input (an unreachable Redis, a stream of
 * another game or network shape, a malformed batch) is one line each.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints } from '../../src/train/run-folder.js';
import { distKeys } from '../../src/distributed/run-meta.js';
import { encodeExperience } from '../../src/distributed/experience.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../helpers/redis.js';
import { lines, notAcknowledged, start, sum, until, untilCheckpoint, type Child } from '../helpers/dist-children.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcdist-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Small, quick DQN settings on catch: few updates before learning starts, a short evaluation. */
const configPath = join(tmp, 'dqn.json');
writeFileSync(configPath, JSON.stringify({ learningStarts: 200, batchSize: 32, bufferSize: 5000, evalEvery: 0, evalEpisodes: 3, checkpointEvery: 500, targetUpdateEvery: 100 }));

/** Transitions per batch of the actors below (--envs 2 --batch-steps 16). */
const PER_BATCH = 32;
const actorArgs = (url: string): string[] => ['actor', url, '--envs', '2', '--batch-steps', '16', '--max-backlog', '4', '--json'];

describe.skipIf(skipWithoutRedis)('actors and a learner over Redis Streams (real redis-server)', () => {
  let redis: TestRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis({ host: '127.0.0.1', port: redis.port });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('a killed actor loses nothing acknowledged: the learner\'s count equals the actors\' acknowledged counts, and a malformed batch is dropped with one line', async () => {
    const url = redis.url('kill-actor');
    const keys = distKeys('kill-actor');
    const out = join(tmp, 'kill-actor');
    // Both actors wait for the learner before it starts. Which one joins and pushes first depends on the
    // machine's load (on a loaded one the other may still be starting up), so the test kills the first
    // one the learner acknowledged: the other must then carry the rest of the run alone.
    const a = start(actorArgs(url));
    const b = start(actorArgs(url));
    await until('both actors waiting', () => a.err().includes('waiting for a learner') && b.err().includes('waiting for a learner'));
    const learner = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--config', configPath, '--steps', '6000', '--distributed', url, '--out', out, '--no-progress', '--json']);
    await until('the learner', async () => (await client.exists(keys.meta)) === 1);
    await until('an actor acknowledged', async () => (await client.hlen(keys.acked)) > 0);
    const killedId = Object.keys(await client.hgetall(keys.acked))[0]!;
    const idOf = (c: Child): string | undefined => /(a\d+) joined/.exec(c.err())?.[1];
    await until('the acknowledged actor\'s join line', () => idOf(a) === killedId || idOf(b) === killedId, 10_000);
    const [killed, survivorChild] = idOf(a) === killedId ? [a, b] : [b, a];
    // A batch no actor sent: the learner must drop it, acknowledge it and keep going.
    await client.xadd(keys.stream, '*', 'b', Buffer.from([0xc1, 0x00]));
    killed.proc.kill('SIGKILL');
    expect(await killed.done).toBe(null);
    const [learnerCode, survivorCode] = await Promise.all([learner.done, survivorChild.done]);
    expect(learnerCode, learner.err()).toBe(0);
    expect(survivorCode).toBe(0);
    const result = JSON.parse(learner.out()).distributed as { acked_transitions: number; acked_by_actor: Record<string, number>; dropped_batches: number };
    const ackedHash = await client.hgetall(keys.acked);
    const pushedHash = await client.hgetall(keys.pushed);
    // The learner's own count = the sum of the per-actor counts it acknowledged, the killed actor's read from Redis.
    expect(result.acked_transitions).toBe(sum(ackedHash));
    expect(result.acked_transitions).toBe(JSON.parse(learner.out()).step);
    expect(Number(ackedHash[killedId])).toBeGreaterThan(0);
    expect(result.acked_by_actor[killedId]).toBe(Number(ackedHash[killedId]));
    const survivor = JSON.parse(survivorChild.out()) as { actorId: string; pushed: number; acked: number; reason: string };
    expect(survivor.reason).toBe('done');
    expect(survivor.actorId).not.toBe(killedId);
    expect(survivor.acked).toBeGreaterThan(0);
    expect(result.acked_by_actor[survivor.actorId]).toBe(survivor.acked);
    expect(survivor.pushed).toBe(Number(pushedHash[survivor.actorId]));
    // Nothing lost: what actors pushed is acknowledged, or still in the stream (unread or pending).
    const waiting = await notAcknowledged(client, keys);
    expect(sum(pushedHash)).toBe(sum(ackedHash) + waiting * PER_BATCH);
    // The malformed batch: one line, counted, nothing of it in the counts.
    expect(result.dropped_batches).toBe(1);
    expect(lines(learner.err()).filter((l) => l.includes('dropped a batch'))).toHaveLength(1);
    expect(lines(learner.err()).find((l) => l.includes('dropped a batch'))).toMatch(/^npcforge learner: dropped a batch: \[experience\] expected a msgpack document, received bytes that do not decode in entry \d+-\d+; fix: /);
    // The stream stays bounded: acknowledged entries are trimmed.
    expect(await client.xlen(keys.stream)).toBe(waiting);
  }, 300_000);

  it('with prioritized replay, actors send Ape-X initial priorities the learner takes', async () => {
    const url = redis.url('prioritized');
    const per = join(tmp, 'per.json');
    writeFileSync(per, JSON.stringify({ learningStarts: 200, batchSize: 32, bufferSize: 5000, evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0, nStep: 3, prioritized: { alpha: 0.6, betaStart: 0.4, betaSteps: 10000, epsilon: 1e-6 } }));
    const learner = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--config', per, '--steps', '1500', '--distributed', url, '--out', join(tmp, 'prioritized'), '--no-progress', '--json']);
    await until('the learner', async () => (await client.exists(distKeys('prioritized').meta)) === 1);
    const actor = start(actorArgs(url));
    const [code, actorCode] = await Promise.all([learner.done, actor.done]);
    expect(code, learner.err()).toBe(0);
    expect(actorCode).toBe(0);
    // A batch without priorities would have been dropped (the learner requires them for this run).
    const r = JSON.parse(learner.out()) as { step: number; distributed: { dropped_batches: number; acked_transitions: number } };
    expect(r.distributed.dropped_batches).toBe(0);
    expect(r.distributed.acked_transitions).toBe(r.step);
    // The learner reads no more batches than its budget needs: it ends within one batch of it.
    expect(r.step).toBeGreaterThanOrEqual(1500);
    expect(r.step).toBeLessThan(1500 + PER_BATCH);
  }, 240_000);

  it('a new learner takes over the name of a finished run of the same game, without its old data', async () => {
    const url = redis.url('kill-actor');
    const keys = distKeys('kill-actor');
    const old = JSON.parse((await client.get(keys.meta))!) as { runId: string; state: string };
    expect(old.state).toBe('done');
    // An actor on the name of a finished run says so, and waits for the next learner there.
    const actor = start(actorArgs(url));
    await until('the actor waiting', () => actor.err().includes('waiting for a learner'));
    expect(lines(actor.err())).toContainEqual(expect.stringMatching(new RegExp(`^npcforge actor: waiting for a learner on redis://127\\.0\\.0\\.1:\\d+/kill-actor: its run ${old.runId} is done \\(resume it with npcforge train --resume <runs>/${old.runId} --steps <more>, or start a new run on the name\\)$`)));
    const learner = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--config', configPath, '--steps', '600', '--distributed', url, '--out', join(tmp, 'take-over'), '--no-progress', '--json']);
    const [code] = await Promise.all([learner.done, actor.done]);
    expect(code, learner.err()).toBe(0);
    const result = JSON.parse(learner.out()) as { step: number; distributed: { acked_by_actor: Record<string, number> } };
    // Only the new actor's transitions are counted: the old run's counts and actor ids were deleted.
    expect(await client.hgetall(keys.acked)).toEqual({ a1: String(result.step) });
    expect(result.distributed.acked_by_actor).toEqual({ a1: result.step });
  }, 240_000);

  it('a learner killed with SIGKILL resumes from its checkpoint, takes over what it read without acknowledging, and its actor reconnects', async () => {
    const url = redis.url('kill-learner');
    const keys = distKeys('kill-learner');
    const out = join(tmp, 'kill-learner');
    const first = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--config', configPath, '--steps', '2500', '--distributed', url, '--out', out, '--no-progress', '--json']);
    await until('the learner', async () => (await client.exists(keys.meta)) === 1);
    const actor = start(actorArgs(url));
    // Steps grow by whole batches: the first checkpoint is at the first batch past 500.
    const runDir = await untilCheckpoint(out);
    first.proc.kill('SIGKILL');
    await first.done;
    const actorId = /(a\d+) joined/.exec(actor.err())![1]!;
    const ackedBefore = Number(await client.hget(keys.acked, actorId));
    // A learner that died between reading and acknowledging: a valid batch, read by a consumer that is gone.
    const meta = JSON.parse((await client.get(keys.meta))!) as { runId: string; netHash: string };
    const orphan = encodeExperience({
      header: { game: 'catch', runId: meta.runId, netHash: meta.netHash, obsShape: [10, 5, 1], obsDtype: 'uint8', numActions: 3, weightsVersion: 1, actorId: 'a99', seq: 0, numEnvs: 1, steps: 1, episodeReturns: [] },
      obs: new Uint8Array(100),
      actions: Int32Array.from([1]),
      rewards: Float32Array.from([0]),
      terminated: Uint8Array.from([0]),
      truncated: Uint8Array.from([0]),
      finalObs: new Uint8Array(0),
      priorities: null,
    });
    await client.xadd(keys.stream, '*', 'b', Buffer.from(orphan));
    let read: unknown = null;
    await until('the orphan batch read', async () => (read = await client.xreadgroup('GROUP', keys.group, 'learner-dead', 'COUNT', 100, 'STREAMS', keys.stream, '>')) !== null);
    const orphaned = ((read as unknown[][])[0]![1] as unknown[]).length;
    // The killed learner may itself have died between a read and its acknowledgement: those are pending too.
    const pendingBefore = Number(((await client.xpending(keys.stream, keys.group)) as unknown[])[0]);
    expect(pendingBefore).toBeGreaterThanOrEqual(orphaned);
    // The actor waits (backlog, no learner) instead of exiting, and the stream stays bounded:
    // its --max-backlog 4, plus the batch in hand when it last looked, plus the orphan.
    await until('the actor throttled', () => actor.err().includes('waiting for the learner'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(actor.proc.exitCode).toBe(null);
    expect(await client.xlen(keys.stream)).toBeLessThanOrEqual(4 + 1 + 1);
    const resumed = start(['train', '--resume', runDir, '--no-progress', '--json']);
    const [code, actorCode] = await Promise.all([resumed.done, actor.done]);
    expect(code, resumed.err()).toBe(0);
    expect(actorCode).toBe(0);
    const r = JSON.parse(resumed.out()) as { step: number; distributed: { reclaimed_batches: number; acked_transitions: number } };
    // It continued from the checkpoint (the lines before it are kept), not from step 0.
    expect(resumed.err()).toMatch(/checkpoint \d+ holds no replay memory/);
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(new Set(steps).size).toBe(steps.length);
    expect(r.step).toBeGreaterThanOrEqual(2500);
    expect(r.distributed.reclaimed_batches).toBe(pendingBefore);
    // The reclaimed batch is in the resumed learner's memory and acknowledged; the actor fed the resumed learner.
    expect(Number(await client.hget(keys.acked, 'a99'))).toBe(1);
    expect(Number(await client.hget(keys.acked, actorId))).toBeGreaterThan(ackedBefore);
    expect(lines(resumed.err()).some((l) => /reclaimed \d+ batch/.test(l))).toBe(true);
    expect(((await client.xpending(keys.stream, keys.group)) as unknown[])[0]).toBe(0);
    expect(listCheckpoints(runDir)).toContain(r.step);
    expect(JSON.parse(actor.out()).reason).toBe('done');
  }, 300_000);

  it('a restarted Redis: learner and actor retry with backoff, say so once each, and the run finishes', async () => {
    // A server of its own: a restart without persistence loses every key of it.
    const own = await startRedis();
    const own2 = new Redis({ host: '127.0.0.1', port: own.port, retryStrategy: () => 100 });
    own2.on('error', () => undefined);
    try {
      const url = own.url('restart');
      const keys = distKeys('restart');
      const learner = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--config', configPath, '--steps', '2500', '--distributed', url, '--out', join(tmp, 'restart'), '--no-progress', '--json']);
      await until('the learner', async () => (await own2.exists(keys.meta)) === 1);
      const actor = start(actorArgs(url));
      await until('acknowledged batches', async () => Number(await own2.hget(keys.acked, 'a1')) >= 5 * PER_BATCH);
      await own.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await own.restart();
      const [code, actorCode] = await Promise.all([learner.done, actor.done]);
      expect(code, learner.err()).toBe(0);
      expect(actorCode, actor.err()).toBe(0);
      expect(JSON.parse(learner.out()).step).toBeGreaterThanOrEqual(2500);
      for (const [who, err] of [['learner', learner.err()], ['actor', actor.err()]] as const) {
        expect(lines(err).filter((l) => l.startsWith(`npcforge ${who}: lost Redis at ${url}`))).toHaveLength(1);
        expect(lines(err).filter((l) => l === `npcforge ${who}: Redis at ${url} is back`)).toHaveLength(1);
      }
      expect(lines(learner.err()).find((l) => l.includes('lost Redis'))).toMatch(/retrying with backoff/);
    } finally {
      own2.disconnect();
      await own.stop();
    }
  }, 300_000);

  it('an unreachable Redis is one line and a non-zero exit, with nothing written', async () => {
    const out = join(tmp, 'unreachable');
    const closed = await redis.url('x').replace(/:(\d+)\//, ':1/');
    const learner = start(['train', 'catch', '--agent', 'dqn', '--distributed', closed, '--out', out, '--no-progress']);
    const actor = start(['actor', closed]);
    expect(await learner.done).toBe(1);
    expect(await actor.done).toBe(1);
    expect(lines(learner.err())).toEqual([expect.stringMatching(/^npcforge: \[train --distributed\] expected a reachable Redis at redis:\/\/127\.0\.0\.1:1\/x, received ECONNREFUSED; fix: /)]);
    expect(lines(actor.err())).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected a reachable Redis/)]);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('a resumed distributed run whose Redis is unreachable, and a learner of another agent, are one line each and change nothing', async () => {
    const url = redis.url('refused');
    const out = join(tmp, 'refused');
    const a2c = start(['train', 'catch', '--agent', 'a2c', '--distributed', url, '--out', out, '--no-progress']);
    // A usage error (2), as every bad setting of `train` is.
    expect(await a2c.done).toBe(2);
    expect(lines(a2c.err())).toEqual([expect.stringMatching(/^npcforge: \[train --distributed\] expected agent dqn or ppo, .*, received agent a2c; fix: /)]);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    // The learner of the SIGKILL test above left a run folder that remembers its Redis: point it at a closed port.
    const runDir = join(tmp, 'kill-learner', readdirSync(join(tmp, 'kill-learner'))[0]!);
    const before = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
    const checkpoints = listCheckpoints(runDir);
    const resumed = start(['train', '--resume', runDir, '--steps', '5000', '--distributed', url.replace(/:(\d+)\//, ':1/'), '--no-progress']);
    expect(await resumed.done).toBe(1);
    expect(lines(resumed.err())).toEqual([expect.stringMatching(/expected a reachable Redis at redis:\/\/127\.0\.0\.1:1\/refused/)]);
    expect(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')).toBe(before);
    expect(listCheckpoints(runDir)).toEqual(checkpoints);
  }, 60_000);

  it('a stream of another game or network shape is refused in one line, and the learner writes nothing', async () => {
    const keys = distKeys('other-game');
    // What a breakout learner leaves on the name.
    const meta = { format: 'npcforge-distributed-run', version: 1, runId: 'minatar-breakout__dqn__s0__x', game: 'minatar/breakout', agent: 'dqn', envOptions: {}, observationSpace: {}, actionSpace: {}, agentConfig: {}, netHash: '0123456789abcdef', seed: 0, state: 'running' };
    await client.set(keys.meta, JSON.stringify(meta));
    const out = join(tmp, 'other-game');
    const learner = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--distributed', redis.url('other-game'), '--out', out, '--no-progress']);
    const actor = start(['actor', redis.url('other-game'), '--game', 'catch']);
    expect(await learner.done).toBe(1);
    expect(await actor.done).toBe(1);
    expect(lines(learner.err())).toEqual([expect.stringMatching(/^npcforge: \[npcforge learner\] expected a run of catch at redis:\/\/127\.0\.0\.1:\d+\/other-game, received a run of minatar\/breakout; fix: /)]);
    expect(lines(actor.err())).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected a run of catch at .*, received a run of minatar\/breakout; fix: /)]);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    expect(JSON.parse((await client.get(keys.meta))!).runId).toBe(meta.runId);
    // Same game, another network shape (another npcforge version or config): the actor refuses to act with it.
    const catchMeta = { ...meta, game: 'catch', observationSpace: { type: 'Box', shape: [10, 5, 1], dtype: 'uint8', low: Array(50).fill(0), high: Array(50).fill(1) }, actionSpace: { type: 'Discrete', n: 3, start: 0 } };
    await client.set(keys.meta, JSON.stringify(catchMeta));
    const shaped = start(['actor', redis.url('other-game')]);
    expect(await shaped.done).toBe(1);
    expect(lines(shaped.err())).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected network shape [0-9a-f]{16}, received network shape 0123456789abcdef at /)]);
    expect(await client.xlen(keys.stream)).toBe(0);
  }, 60_000);
});
