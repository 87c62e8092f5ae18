/**
 * DQN throughput benchmark: train updates/s and acting env steps/s for the MinAtar network
 * (10x10x4 bit grids) and the Nature network (84x84x4 frames), plus replay bytes per transition.
 * Usage: node dist/bench/dqn.js [--json out.json] [--seconds S] [--nets minatar-cnn,nature-cnn]
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { DQN_PRESETS, resolveDqnConfig } from '../src/agents/dqn/config.js';
import { DqnAgent } from '../src/agents/dqn/dqn-agent.js';
import { SeededRng } from '../src/envs/rng.js';
import { Box, Discrete } from '../src/envs/spaces.js';
import { ReplayBuffer } from '../src/replay/buffer/replay-buffer.js';
import { initBackend } from '../src/networks/backend.js';

export interface DqnBenchRow {
  net: string;
  obsShape: number[];
  batchSize: number;
  updatesPerSec: number;
  envStepsPerSec: number;
}

export interface DqnBenchResult {
  backend: string;
  rows: DqnBenchRow[];
  replay: Array<{ what: string; transitions: number; bytes: number; bytesPerTransition: number; frameBytes: number }>;
}

function parseArgs(args: string[]): { json?: string; seconds: number; nets: string[] } {
  const out: { json?: string; seconds: number; nets: string[] } = { seconds: 5, nets: ['minatar-cnn', 'nature-cnn'] };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--json') out.json = args[++i];
    else if (args[i] === '--seconds') out.seconds = Number(args[++i]);
    else if (args[i] === '--nets') out.nets = args[++i]!.split(',');
  }
  return out;
}

async function timeIt(seconds: number, minIters: number, fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up
  const t0 = performance.now();
  let n = 0;
  while (n < minIters || performance.now() - t0 < seconds * 1000) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function benchNet(net: 'minatar-cnn' | 'nature-cnn', shape: number[], high: number, seconds: number): Promise<DqnBenchRow> {
  const config = resolveDqnConfig(DQN_PRESETS.minatar!, { network: { kind: net }, bufferSize: 2000, learningStarts: 64 });
  const space = new Box({ shape, dtype: 'uint8', low: 0, high });
  const agent = new DqnAgent({ config, observationSpace: space, actionSpace: new Discrete(6), numEnvs: 1, seed: 0 });
  const rng = new SeededRng(1);
  const size = space.size;
  const frames = Array.from({ length: 8 }, () => {
    const o = new Uint8Array(size);
    for (let i = 0; i < size; i++) o[i] = high === 1 ? (rng.random() < 0.1 ? 1 : 0) : rng.int(0, 256);
    return o;
  });
  let t = 0;
  const zero = new Float32Array(1);
  const none = new Uint8Array(1);
  // Acting: one observation per step (greedy forward pass + argmax + replay add).
  const heavy = net === 'nature-cnn';
  const envStepsPerSec = await timeIt(seconds, heavy ? 5 : 20, async () => {
    const obs = frames[t++ % frames.length]!;
    const { actions } = await agent.act(obs, { numEnvs: 1, mode: 'eval' });
    agent.replay.add(0, obs, 0, actions[0]!, zero[0]!, none[0] === 1, false);
  });
  for (let i = 0; i < 200; i++) agent.replay.add(0, frames[i % frames.length]!, 0, i % 6, 0, false, false);
  const updatesPerSec = await timeIt(seconds, heavy ? 2 : 10, async () => {
    await agent.update(agent.replay.sample(config.batchSize, rng));
  });
  agent.dispose();
  return { net, obsShape: shape, batchSize: config.batchSize, updatesPerSec, envStepsPerSec };
}

/** Runs the benchmark; prints a table; returns the figures. */
export async function run(args: string[] = []): Promise<DqnBenchResult> {
  const opts = parseArgs(args);
  const backend = await initBackend();
  process.stdout.write(`dqn bench (backend ${backend}, tfjs ${tf.version.tfjs})\n`);
  process.stdout.write('net           obs         batch  updates/s  env steps/s\n');
  const rows: DqnBenchRow[] = [];
  const nets = [['minatar-cnn', [10, 10, 4], 1], ['nature-cnn', [84, 84, 4], 255]] as const;
  for (const [net, shape, high] of nets.filter(([n]) => opts.nets.includes(n))) {
    const r = await benchNet(net, [...shape], high, opts.seconds);
    rows.push(r);
    process.stdout.write(`${r.net.padEnd(13)} ${r.obsShape.join('x').padEnd(11)} ${String(r.batchSize).padStart(5)} ${r.updatesPerSec.toFixed(2).padStart(10)} ${r.envStepsPerSec.toFixed(1).padStart(12)}\n`);
  }
  const minatar = new ReplayBuffer({ capacity: 100_000, obsShape: [10, 10, 10], obsDtype: 'uint8', obsHigh: 1 });
  const atari = new ReplayBuffer({ capacity: 100_000, obsShape: [84, 84, 4], obsDtype: 'uint8', obsHigh: 255, frameStack: 4 });
  const replay = [
    { what: 'minatar 10x10x10 bit-packed', buf: minatar },
    { what: '84x84 stack-4 frames stored once', buf: atari },
  ].map(({ what, buf }) => ({ what, transitions: buf.totalRows, bytes: buf.byteLength, bytesPerTransition: buf.byteLength / buf.totalRows, frameBytes: buf.frameBytes }));
  const result: DqnBenchResult = { backend, rows, replay };
  for (const r of replay) process.stdout.write(`replay ${r.what}: ${(r.bytes / 1048576).toFixed(2)} MB for ${r.transitions} transitions = ${r.bytesPerTransition.toFixed(1)} B/transition (one frame ${r.frameBytes} B)\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run(process.argv.slice(2));
}
