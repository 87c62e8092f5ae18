/**
 * Transitions/s into a distributed DQN learner on loopback (`npm run bench -- distributed`): the
 * Redis transport ceiling first (a producer pushing pre-built msgpackr batches of the actors' size
 * as fast as it can, a consumer group reader that only acknowledges and trims), then a learner
 * (`train <game> --distributed`) fed by 1, 2 and 4 `npcforge actor` processes. The learner does
 * no gradient updates here (trainEvery huge), so it is not the bottleneck the issue's target
 * excludes; actors act greedily with epsilon 0.05 (a forward pass per step). Needs redis-server.
 * Beside them, what one actor's own work (acting, stepping, building and encoding batches) yields
 * in this process with no Redis at all: the most an actor process can deliver on one core, so
 * that "delivered / produced" shows what the transport costs the actors.
 * Flags: --game (minatar/breakout) --seconds per measurement (10) --actors 1,2,4 --envs 4 --batch-steps 32.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import '../games/index.js';
import { make } from '../src/envs/registry.js';
import type { Box, Discrete } from '../src/envs/spaces.js';
import { startRedis } from './redis-server.js';
import { encodeExperience } from '../src/distributed/experience.js';
import { distKeys } from '../src/distributed/run-meta.js';
import { allocObs } from '../src/envs/spaces.js';
import type { Env, ObsArray } from '../src/envs/env.js';
import { SyncVectorEnv } from '../src/envs/vector/sync-vector-env.js';
import { DqnAgent } from '../src/agents/dqn/dqn-agent.js';
import { DQN_PRESETS, resolveDqnConfig } from '../src/agents/dqn/config.js';
import { initBackend } from '../src/networks/backend.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'bin', 'npcforge.js');

function flag(argv: string[], name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** The Redis ceiling: one producer connection XADDing `batch` back to back, one consumer reading in groups of 16, acknowledging and trimming. */
async function ceiling(port: number, batch: Buffer, perBatch: number, seconds: number): Promise<number> {
  const keys = distKeys('ceiling');
  const producer = new Redis({ host: '127.0.0.1', port });
  const consumer = new Redis({ host: '127.0.0.1', port });
  await producer.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
  let stop = false;
  let acked = 0;
  const produce = async (): Promise<void> => {
    // The actors' rate limit: no more than 64 batches waiting.
    while (!stop) {
      if ((await producer.xlen(keys.stream)) > 64) await sleep(1);
      else await producer.multi().xadd(keys.stream, '*', 'b', batch).hincrby(keys.pushed, 'p', perBatch).exec();
    }
  };
  const consume = async (): Promise<void> => {
    while (!stop) {
      const r = (await consumer.xreadgroupBuffer('GROUP', keys.group, 'c', 'COUNT', 16, 'BLOCK', 100, 'STREAMS', keys.stream, '>')) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      const entries = r?.[0]?.[1] ?? [];
      if (!entries.length) continue;
      const ids = entries.map(([id]) => String(id));
      await consumer.multi().xack(keys.stream, keys.group, ...ids).hincrby(keys.acked, 'p', perBatch * ids.length).exec();
      await consumer.xtrim(keys.stream, 'MINID', ids[ids.length - 1]!);
      acked += perBatch * ids.length;
    }
  };
  const p = Promise.all([produce(), consume()]);
  await sleep(1000);
  const a0 = acked;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const rate = (acked - a0) / ((performance.now() - t0) / 1000);
  stop = true;
  await p;
  producer.disconnect();
  consumer.disconnect();
  return rate;
}

/**
 * One actor's work without Redis: the actor's loop (act on all envs, step them, copy into the batch
 * arrays, encode with msgpackr) in this process, transitions/s over `seconds` after a warm-up.
 */
async function actorAlone(o: { game: string; envs: number; batchSteps: number; seconds: number }): Promise<number> {
  await initBackend();
  const E = o.envs;
  const T = o.batchSteps;
  const vec = new SyncVectorEnv(() => make(o.game) as Env<ObsArray, number>, E);
  const box = vec.singleObservationSpace as Box;
  const config = resolveDqnConfig(DQN_PRESETS.minatar!, { epsilonStart: 0.05, epsilonEnd: 0.05, bufferSize: E * 64 });
  const agent = new DqnAgent({ config, observationSpace: box, actionSpace: vec.singleActionSpace, numEnvs: E, seed: 1 });
  // Past learning starts, as the bench's actors are: every step runs the network (epsilon 0.05).
  agent.envSteps = 1_000_000;
  const n = box.size;
  let obs = (await vec.reset({ seed: 1 })).obs;
  const batch = async (): Promise<void> => {
    const batchObs = allocObs(box.dtype, E * (T + 1) * n);
    const actions = new Int32Array(E * T);
    const rewards = new Float32Array(E * T);
    const terminated = new Uint8Array(E * T);
    const truncated = new Uint8Array(E * T);
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < E; e++) batchObs.set(obs.subarray(e * n, (e + 1) * n), (e * (T + 1) + t) * n);
      const { actions: a } = await agent.act(obs, { numEnvs: E, mode: 'train' });
      const r = await vec.step(a);
      for (let e = 0; e < E; e++) {
        actions[e * T + t] = (a as Int32Array)[e]!;
        rewards[e * T + t] = r.rewards[e]!;
        terminated[e * T + t] = r.terminated[e]!;
        truncated[e * T + t] = r.truncated[e]!;
      }
      obs = r.obs;
    }
    encodeExperience({
      header: { game: o.game, runId: 'alone', netHash: 'x', obsShape: [...box.shape], obsDtype: box.dtype, numActions: agent.numActions, weightsVersion: 1, actorId: 'a1', seq: 0, numEnvs: E, steps: T, episodeReturns: [] },
      obs: batchObs, actions, rewards, terminated, truncated, finalObs: allocObs(box.dtype, 0), priorities: null,
    });
  };
  try {
    for (let i = 0; i < 4; i++) await batch();
    let done = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < o.seconds * 1000) {
      await batch();
      done += E * T;
    }
    return done / ((performance.now() - t0) / 1000);
  } finally {
    agent.dispose();
    await vec.close();
  }
}

function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((ok) => {
          if (c.exitCode !== null || c.signalCode !== null) return ok();
          c.once('exit', () => ok());
          c.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * A learner fed by `n` actors (or, with `n` = 0, by a producer pushing pre-built valid batches: the
 * learner's own intake limit): transitions/s it acknowledged over `seconds`, after a warm-up.
 */
async function withActors(port: number, n: number, o: { game: string; envs: number; batchSteps: number; seconds: number; out: string; config: string; batch: (meta: { runId: string; netHash: string }) => Buffer }): Promise<{ rate: number; perActor: number[] }> {
  const name = `bench-${n}-${Date.now()}`;
  const keys = distKeys(name);
  const url = `redis://127.0.0.1:${port}/${name}`;
  const client = new Redis({ host: '127.0.0.1', port });
  const learner = startCli(['train', o.game, '--agent', 'dqn', '--config', o.config, '--steps', '1000000000', '--distributed', url, '--out', o.out, '--no-progress']);
  let learnerErr = '';
  learner.stderr!.on('data', (d) => (learnerErr += String(d)));
  const children = [learner];
  try {
    for (let i = 0; (await client.exists(keys.meta)) === 0; i++) {
      if (learner.exitCode !== null || i > 1200) throw new Error(`learner did not start: ${learnerErr.slice(-400)}`);
      await sleep(50);
    }
    for (let i = 0; i < n; i++) children.push(startCli(['actor', url, '--envs', String(o.envs), '--batch-steps', String(o.batchSteps)]));
    let producing = n === 0;
    const producer = producing ? new Redis({ host: '127.0.0.1', port }) : null;
    const produced = (async () => {
      if (!producer) return;
      const batch = o.batch(JSON.parse((await client.get(keys.meta))!) as { runId: string; netHash: string });
      while (producing) {
        if ((await producer.xlen(keys.stream)) > 64) await sleep(1);
        else await producer.xadd(keys.stream, '*', 'b', batch);
      }
    })();
    const ids = n === 0 ? ['p'] : Array.from({ length: n }, (_, i) => `a${i + 1}`);
    const total = async (): Promise<number[]> => {
      const h = await client.hgetall(keys.acked);
      return ids.map((id) => Number(h[id] ?? 0));
    };
    // Warm-up: every actor delivered a few batches (tfjs start-up and JIT are behind them).
    for (let i = 0; (await total()).some((v) => v < 4 * o.envs * o.batchSteps); i++) {
      if (i > 1200) throw new Error('actors did not deliver');
      await sleep(50);
    }
    const c0 = await total();
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const c1 = await total();
    const dt = (performance.now() - t0) / 1000;
    const perActor = c1.map((v, i) => (v - c0[i]!) / dt);
    producing = false;
    await produced;
    producer?.disconnect();
    return { rate: perActor.reduce((a, b) => a + b, 0), perActor: n === 0 ? [] : perActor };
  } finally {
    await stopAll(children);
    client.disconnect();
  }
}

async function main(argv: string[]): Promise<void> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const game = flag(argv, 'game', 'minatar/breakout');
  const seconds = Number(flag(argv, 'seconds', '10'));
  const counts = flag(argv, 'actors', '1,2,4').split(',').map(Number);
  const envs = Number(flag(argv, 'envs', '4'));
  const batchSteps = Number(flag(argv, 'batch-steps', '32'));
  const jsonOut = argv.includes('--json') ? flag(argv, 'json', '') : '';
  const out = mkdtempSync(join(tmpdir(), 'npcbench-dist-'));
  const config = join(out, 'config.json');
  // No updates (the learner only takes batches in), epsilon 0.05 from the start (actors run the network every step), no evaluation.
  writeFileSync(config, JSON.stringify({ learningStarts: 32, trainEvery: 1e8, epsilonStart: 0.05, epsilonEnd: 0.05, evalEvery: 0, evalEpisodes: 0, checkpointEvery: 0, logEvery: 1e8 }));
  const server = await startRedis();
  const { port } = server;
  try {
    // A batch of the actors' shape (the content does not change the transport's cost).
    const env = make(game);
    const box = env.observationSpace as Box;
    const numActions = (env.actionSpace as Discrete).n;
    env.close();
    const T = batchSteps;
    const E = envs;
    const perBatch = E * T;
    const makeBatch = (meta: { runId: string; netHash: string }): Buffer => Buffer.from(
      encodeExperience({
        header: { game, runId: meta.runId, netHash: meta.netHash, obsShape: [...box.shape], obsDtype: box.dtype, numActions, weightsVersion: 1, actorId: 'p', seq: 0, numEnvs: E, steps: T, episodeReturns: [] },
        obs: allocObs(box.dtype, E * (T + 1) * box.size),
        actions: new Int32Array(perBatch),
        rewards: new Float32Array(perBatch),
        terminated: new Uint8Array(perBatch),
        truncated: new Uint8Array(perBatch),
        finalObs: allocObs(box.dtype, 0),
        priorities: null,
      }),
    );
    const batch = makeBatch({ runId: 'bench', netHash: 'x' });
    const rows: Array<{ setup: string; rate: number; perActor?: number[]; load: string }> = [];
    const loadStart = load();
    const ceil = await ceiling(port, batch, perBatch, seconds);
    rows.push({ setup: 'Redis ceiling (producer -> ack-only consumer)', rate: ceil, load: load() });
    const alone = await actorAlone({ game, envs, batchSteps, seconds });
    rows.push({ setup: 'one actor\'s own work, no Redis (this process)', rate: alone, load: load() });
    for (const n of [0, ...counts]) {
      const r = await withActors(port, n, { game, envs, batchSteps, seconds, out, config, batch: makeBatch });
      rows.push({ setup: n === 0 ? 'learner intake (producer of valid batches)' : `learner + ${n} actor${n > 1 ? 's' : ''}`, rate: r.rate, perActor: r.perActor, load: load() });
    }
    process.stdout.write(`distributed: ${game}, batches of ${E} envs x ${T} steps (${batch.byteLength} bytes), ${seconds} s each; load average at start ${loadStart}\n`);
    process.stdout.write(`${'setup'.padEnd(48)} ${'transitions/s'.padStart(14)} ${'of ceiling'.padStart(11)}  per actor         load after\n`);
    for (const r of rows) process.stdout.write(`${r.setup.padEnd(48)} ${Math.round(r.rate).toLocaleString('en-US').padStart(14)} ${`${((100 * r.rate) / ceil).toFixed(0)}%`.padStart(11)}  ${(r.perActor?.map((v) => Math.round(v)).join(', ') ?? '').padEnd(17)} ${r.load}\n`);
    const one = rows.find((r) => r.setup === 'learner + 1 actor');
    if (one) process.stdout.write(`one actor delivers ${((100 * one.rate) / alone).toFixed(0)}% of what its own work yields without Redis; the ceiling takes ${Math.ceil(ceil / alone)} such actors\n`);
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ game, envs, batchSteps, batchBytes: batch.byteLength, seconds, loadStart, actorAlone: alone, rows }, null, 2) + '\n');
  } finally {
    await server.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
