/**
 * Distributed PPO over a real redis-server, as child processes of bin/npcforge.js: a learner on
 * catch with two actors finishes its budget, a killed actor loses nothing acknowledged and the
 * counts add up, a segment without behaviour log-probabilities is dropped with one line,
 * MultiDiscrete (tank) and Box (mountain-car-continuous) segments with truncations are taken, a distributed run learns (V-trace over the actors' lag), and an actor of another
 * agent or network shape, a recurrent run and a segment length other than the run's are one line each.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distKeys } from '../../src/distributed/run-meta.js';
import { encodeExperience } from '../../src/distributed/experience.js';
import { listCheckpoints } from '../../src/train/run-folder.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../helpers/redis.js';
import { lines, notAcknowledged, settle, start, sum, until, untilCheckpoint, type Child } from '../helpers/dist-children.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcppo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The catch preset (8 envs x 32 steps a rollout) with a short evaluation. */
const configPath = join(tmp, 'ppo.json');
writeFileSync(configPath, JSON.stringify({ evalEvery: 0, evalEpisodes: 100, checkpointEvery: 0 }));

/** Transitions per segment of the actors below: 4 envs x the catch preset's numSteps 32. */
const PER_SEGMENT = 128;
const actorArgs = (url: string): string[] => ['actor', url, '--envs', '4', '--max-backlog', '4', '--json'];
const learnerArgs = (url: string, out: string, steps: number, seed = 0): string[] => ['train', 'catch', '--agent', 'ppo', '--config', configPath, '--seed', String(seed), '--steps', String(steps), '--distributed', url, '--out', out, '--no-progress', '--json'];

interface LearnerResult {
  step: number;
  lastEval: { mean_return: number };
  distributed: { acked_transitions: number; acked_by_actor: Record<string, number>; dropped_batches: number; stale_batches: number; stale_transitions: number; weights_version: number };
}

describe.skipIf(skipWithoutRedis)('distributed PPO over Redis Streams (real redis-server)', () => {
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

  it('a killed actor loses nothing acknowledged: the learner\'s count equals the actors\' acknowledged counts, and the survivor carries the run', async () => {
    const url = redis.url('ppo-kill');
    const keys = distKeys('ppo-kill');
    const a = start(actorArgs(url));
    const b = start(actorArgs(url));
    await until('both actors waiting', () => a.err().includes('waiting for a learner') && b.err().includes('waiting for a learner'));
    const learner = start(learnerArgs(url, join(tmp, 'kill'), 6000));
    await until('an actor acknowledged', async () => (await client.hlen(keys.acked)) > 0);
    // The first actor the learner acknowledged is killed, whichever joined first on a loaded machine.
    const killedId = Object.keys(await client.hgetall(keys.acked))[0]!;
    const idOf = (c: Child): string | undefined => /(a\d+) joined/.exec(c.err())?.[1];
    await until('the acknowledged actor\'s join line', () => idOf(a) === killedId || idOf(b) === killedId, 10_000);
    const [killed, survivorChild] = idOf(a) === killedId ? [a, b] : [b, a];
    // The killed actor's join line is there (waited for above); the other may still be joining on a loaded machine.
    expect(killed.err()).toMatch(/joined run catch__ppo__s0__\S+ \(catch, ppo\) .* with 4 envs, 128 transitions per batch/);
    // A segment without behaviour log-probabilities (as a DQN actor would send): dropped with one line, acknowledged, not counted.
    const meta = JSON.parse((await client.get(keys.meta))!) as { runId: string; netHash: string };
    const noLogProbs = encodeExperience({
      header: { game: 'catch', runId: meta.runId, netHash: meta.netHash, obsShape: [10, 5, 1], obsDtype: 'uint8', numActions: 3, weightsVersion: 1, actorId: 'a99', seq: 0, numEnvs: 1, steps: 32, episodeReturns: [] },
      obs: new Uint8Array(33 * 50),
      actions: new Int32Array(32),
      rewards: new Float32Array(32),
      terminated: new Uint8Array(32),
      truncated: new Uint8Array(32),
      finalObs: new Uint8Array(0),
      priorities: null,
    });
    await client.xadd(keys.stream, '*', 'b', Buffer.from(noLogProbs));
    killed.proc.kill('SIGKILL');
    expect(await killed.done).toBe(null);
    const [learnerCode, survivorCode] = await Promise.all([learner.done, survivorChild.done]);
    expect(learnerCode, learner.err()).toBe(0);
    expect(survivorCode).toBe(0);
    const result = JSON.parse(learner.out()) as LearnerResult;
    const ackedHash = await client.hgetall(keys.acked);
    const pushedHash = await client.hgetall(keys.pushed);
    expect(result.step).toBeGreaterThanOrEqual(6000);
    expect(result.distributed.acked_transitions).toBe(result.step);
    expect(result.distributed.acked_transitions).toBe(sum(ackedHash));
    expect(Number(ackedHash[killedId])).toBeGreaterThan(0);
    expect(result.distributed.acked_by_actor[killedId]).toBe(Number(ackedHash[killedId]));
    const survivor = JSON.parse(survivorChild.out()) as { actorId: string; pushed: number; acked: number; reason: string };
    expect(survivor.reason).toBe('done');
    expect(survivor.actorId).not.toBe(killedId);
    expect(result.distributed.acked_by_actor[survivor.actorId]).toBe(survivor.acked);
    expect(survivor.acked).toBeGreaterThan(0);
    // Nothing lost: what actors pushed was acknowledged (into the rollout storage, or dropped as stale), or waits in the stream.
    const waiting = await notAcknowledged(client, keys);
    expect(sum(pushedHash)).toBe(sum(ackedHash) + result.distributed.stale_transitions + waiting * PER_SEGMENT);
    expect(result.distributed.dropped_batches).toBe(1);
    expect(ackedHash.a99).toBeUndefined();
    expect(lines(learner.err()).filter((l) => l.includes('dropped a batch'))).toEqual([expect.stringMatching(/^npcforge learner: dropped a batch: \[experience\] expected behaviour log-probabilities \(a ppo run: V-trace needs them\), received none in entry \d+-\d+; fix: /)]);
    // One weights version per update (8 columns a rollout, 256 transitions), plus the first publication and the last.
    expect(result.distributed.weights_version).toBeGreaterThanOrEqual(Math.floor(6000 / 256));
    expect(await client.xlen(keys.stream)).toBe(waiting);
  }, 300_000);

  // Seeds 1-5 of this setting reached 1, 0.68, 1, 0.62, 0.54 (100 eval episodes each); seed 2 reached
  // 0.68 or 1 in six more runs two at a time, and 0.28 once in a test run on a machine at load 8
  // (the actors' timing sets the policy lag). A random policy scores -0.53 (200 episodes): above 0
  // is learning, with a margin for the lag.
  for (const seed of [1, 2]) {
    it(`learns catch from two actors (seed ${seed}): eval return above 0 (random: -0.53) after 24000 steps`, async () => {
      const url = redis.url(`ppo-learn-${seed}`);
      const learner = start(learnerArgs(url, join(tmp, `learn-${seed}`), 24_000, seed));
      const actors = [start(actorArgs(url)), start(actorArgs(url))];
      const [code, ...actorCodes] = await Promise.all([learner.done, ...actors.map((x) => x.done)]);
      expect(code, learner.err()).toBe(0);
      expect(actorCodes).toEqual([0, 0]);
      const r = JSON.parse(learner.out()) as LearnerResult;
      expect(r.lastEval.mean_return).toBeGreaterThan(0);
    }, 300_000);
  }

  for (const [game, space] of [
    ['tank', 'MultiDiscrete([5, 3, 2]), 50-step cap'],
    ['mountain-car-continuous', 'Box([-1, 1]), 999-step cap'],
  ] as const) {
    it(`${game} (${space}): segments of its action space and truncated episodes are all taken`, async () => {
      const url = redis.url(`ppo-${game}`);
      const keys = distKeys(`ppo-${game}`);
      const learner = start(['train', game, '--agent', 'ppo', '--config', configPath, '--steps', '1500', '--distributed', url, '--out', join(tmp, game), '--no-progress', '--json']);
      const actor = start(['actor', url, '--envs', '4', '--max-backlog', '2', '--json']);
      const [code, actorCode] = await Promise.all([learner.done, actor.done]);
      expect(code, learner.err()).toBe(0);
      expect(actorCode, actor.err()).toBe(0);
      const r = JSON.parse(learner.out()) as LearnerResult & { step: number };
      expect(r.step).toBeGreaterThanOrEqual(1500);
      // No more segments read than the budget needs: it ends within one segment of it.
      const perSegment = Number(/(\d+) transitions per batch/.exec(actor.err())![1]);
      expect(r.step).toBeLessThan(1500 + perSegment);
      expect(r.distributed.dropped_batches).toBe(0);
      expect(r.distributed.acked_transitions).toBe(r.step);
      expect(Number(await client.hget(keys.acked, 'a1'))).toBe(r.step);
      // At least one update per rollout taken (8 envs of the game's numSteps), each publishing a version.
      expect(r.distributed.weights_version).toBeGreaterThanOrEqual(2);
    }, 240_000);
  }

  it('a resumed run keeps the V-trace settings it started with, and a tampered one is one line', async () => {
    const url = redis.url('ppo-resume');
    const out = join(tmp, 'resume');
    const settings = ['--rho-bar', '0.9', '--c-bar', '0.8', '--max-policy-lag', '7'];
    const cfg = join(tmp, 'ppo-ckpt.json');
    writeFileSync(cfg, JSON.stringify({ evalEvery: 0, evalEpisodes: 5, checkpointEvery: 256 }));
    const first = start(['train', 'catch', '--agent', 'ppo', '--config', cfg, '--steps', '512', ...settings, '--distributed', url, '--out', out, '--no-progress', '--json']);
    const a1 = start(actorArgs(url));
    const [code1] = await settle('the first run', [first, a1]);
    expect(code1, first.err()).toBe(0);
    const want = { rho_bar: 0.9, c_bar: 0.8, max_policy_lag: 7 };
    const firstResult = JSON.parse(first.out()) as { step: number; distributed: { vtrace: unknown } };
    expect(firstResult.distributed.vtrace).toEqual(want);
    const runDir = join(out, readdirSync(out)[0]!);
    const configFile = join(runDir, 'config.json');
    expect(JSON.parse(readFileSync(configFile, 'utf8')).distributed).toEqual({ url: `redis://127.0.0.1:${redis.port}/ppo-resume`, rhoBar: 0.9, cBar: 0.8, maxPolicyLag: 7 });
    // Resumed without the flags: the run's own settings.
    // The learner reads up to 16 segments at once, so the first run can end well past its 512 steps
    // (under load): the new budget is counted from where it ended.
    const resumeTo = firstResult.step + 512;
    const second = start(['train', '--resume', runDir, '--steps', String(resumeTo), '--no-progress', '--json']);
    const a2 = start(actorArgs(url));
    const [code2] = await settle('the resumed run', [second, a2]);
    expect(code2, second.err()).toBe(0);
    const resumed = JSON.parse(second.out()) as { step: number; distributed: { vtrace: unknown } };
    expect(resumed.step).toBeGreaterThanOrEqual(resumeTo);
    expect(resumed.distributed.vtrace).toEqual(want);
    // config.json is untrusted: a setting of the wrong type is one line before Redis is reached.
    const file = JSON.parse(readFileSync(configFile, 'utf8'));
    file.distributed.rhoBar = '0.9';
    writeFileSync(configFile, JSON.stringify(file));
    const bad = start(['train', '--resume', runDir, '--steps', String(resumed.step + 512), '--no-progress']);
    expect(await bad.done).not.toBe(0);
    expect(lines(bad.err())).toEqual([expect.stringMatching(/^npcforge: \[train --distributed\] expected valid V-trace options, received --rho-bar "0\.9" \(want > 0\)/)]);
  }, 300_000);

  it('a learner killed with SIGKILL resumes from its checkpoint; its actor waits, reconnects, and the weights versions keep rising', async () => {
    const url = redis.url('ppo-kill-learner');
    const keys = distKeys('ppo-kill-learner');
    const out = join(tmp, 'kill-learner');
    const cfg = join(tmp, 'ppo-kill.json');
    writeFileSync(cfg, JSON.stringify({ evalEvery: 0, evalEpisodes: 5, checkpointEvery: 512 }));
    const first = start(['train', 'catch', '--agent', 'ppo', '--config', cfg, '--steps', '3072', '--distributed', url, '--out', out, '--no-progress', '--json']);
    const actor = start(actorArgs(url));
    const runDir = await untilCheckpoint(out);
    first.proc.kill('SIGKILL');
    await first.done;
    const versionBefore = Number(await client.hget(keys.weights, 'version'));
    const actorId = /(a\d+) joined/.exec(actor.err())![1]!;
    const ackedBefore = Number(await client.hget(keys.acked, actorId));
    // With no learner the actor fills the stream to its backlog bound and waits there; it does not exit.
    await until('the actor throttled', () => actor.err().includes('waiting for the learner'));
    expect(actor.proc.exitCode).toBe(null);
    const resumed = start(['train', '--resume', runDir, '--no-progress', '--json']);
    const [code, actorCode] = await settle('the resumed learner and its actor', [resumed, actor]);
    expect(code, resumed.err()).toBe(0);
    expect(actorCode, actor.err()).toBe(0);
    const r = JSON.parse(resumed.out()) as LearnerResult;
    expect(r.step).toBeGreaterThanOrEqual(3072);
    // It continued from the checkpoint (the lines before it are kept), not from step 0.
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps[0]).toBeLessThan(listCheckpoints(runDir)[0]!);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(new Set(steps).size).toBe(steps.length);
    // Versions rise over the restart, so the lag of what the actor acted with before it stays measurable.
    expect(r.distributed.weights_version).toBeGreaterThan(versionBefore);
    expect(Number(await client.hget(keys.acked, actorId))).toBeGreaterThan(ackedBefore);
    expect(r.distributed.acked_by_actor[actorId]).toBeGreaterThan(0);
    expect(((await client.xpending(keys.stream, keys.group)) as unknown[])[0]).toBe(0);
  }, 300_000);

  it('an actor of another agent or network shape, a recurrent run and another segment length are one line each', async () => {
    const keys = distKeys('ppo-bad');
    const obsSpace = { type: 'Box', shape: [10, 5, 1], dtype: 'uint8', low: Array(50).fill(0), high: Array(50).fill(1) };
    const meta = { format: 'npcforge-distributed-run', version: 1, runId: 'catch__ppo__s0__x', game: 'catch', agent: 'ppo', envOptions: {}, observationSpace: obsSpace, actionSpace: { type: 'Discrete', n: 3, start: 0 }, agentConfig: { algorithm: 'ppo', encoder: 'mlp', mlpHidden: [64], numSteps: 32 }, netHash: '0123456789abcdef', seed: 0, state: 'running' };
    // A mismatch with the run is exit 1; a setting the actor cannot serve is a usage error (2).
    const run = async (m: object, extra: string[] = [], code = 2): Promise<string[]> => {
      await client.set(keys.meta, JSON.stringify(m));
      const actor = start(['actor', redis.url('ppo-bad'), ...extra]);
      expect(await actor.done).toBe(code);
      return lines(actor.err());
    };
    expect(await run(meta, [], 1)).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected network shape [0-9a-f]{16}, received network shape 0123456789abcdef at redis:\/\/127\.0\.0\.1:\d+\/ppo-bad; fix: /)]);
    expect(await run({ ...meta, agent: 'sac' })).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected a dqn or ppo run, received a sac run at .*; fix: actors feed DQN and PPO learners only$/)]);
    expect(await run({ ...meta, agentConfig: { ...meta.agentConfig, lstmUnits: 16 } })).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected a feed-forward ppo run without normObs\/normReward, received a recurrent ppo run at .*; fix: train it without --distributed$/)]);
    expect(await run(meta, ['--batch-steps', '16'])).toEqual([expect.stringMatching(/^npcforge: \[npcforge actor\] expected --batch-steps 32 \(the ppo run's numSteps: its learner takes segments of that length\), received --batch-steps 16; fix: drop --batch-steps$/)]);
    expect(await client.xlen(keys.stream)).toBe(0);
    // A recurrent PPO learner: one line, a usage error, nothing written.
    const out = join(tmp, 'lstm');
    const learner = start(['train', 'catch', '--agent', 'ppo', '--recurrent', '--distributed', redis.url('ppo-lstm'), '--out', out, '--no-progress']);
    expect(await learner.done).toBe(2);
    expect(lines(learner.err())).toEqual([expect.stringMatching(/^npcforge: \[train --distributed\] expected agent dqn or ppo, feed-forward .*, received agent ppo \(recurrent\); fix: /)]);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    // V-trace flags on a DQN learner mean nothing there: one line too.
    const dqn = start(['train', 'catch', '--agent', 'dqn', '--preset', 'classic', '--rho-bar', '2', '--distributed', redis.url('ppo-dqn'), '--out', out, '--no-progress']);
    expect(await dqn.done).toBe(2);
    expect(lines(dqn.err())).toEqual([expect.stringMatching(/^npcforge: \[train --distributed\] expected V-trace flags with agent ppo only, received --rho-bar with agent dqn; fix: /)]);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 120_000);
});
