/**
 * Worker thread of WorkerVectorEnv: builds `count` sub-envs with `make(id, options)`, then serves
 * reset/step commands, reading actions from and writing observations, rewards and flags into the
 * shared buffers. Only small info objects travel as messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { make } from '../registry.js';
import type { Env, ObsArray, Info } from '../env.js';
import { Box } from '../spaces.js';
import type { ParentMessage, SharedBuffers, WorkerInit, WorkerMessage } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);

let envs: Env<ObsArray, number>[] = [];
let obsSize = 0;
let views: {
  obs: ObsArray;
  finalObs: ObsArray;
  actions: Int32Array;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
} | null = null;
let stepCount = 0;
let current: number | null = null;

function typed(box: Box, buf: SharedArrayBuffer): ObsArray {
  return box.dtype === 'uint8' ? new Uint8Array(buf) : box.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
}

function isEmpty(info: Info): boolean {
  for (const _ in info) return false;
  return true;
}

function attach(buffers: SharedBuffers): void {
  const box = envs[0]!.observationSpace as Box;
  views = {
    obs: typed(box, buffers.obs),
    finalObs: typed(box, buffers.finalObs),
    actions: new Int32Array(buffers.actions),
    rewards: new Float64Array(buffers.rewards),
    terminated: new Uint8Array(buffers.terminated),
    truncated: new Uint8Array(buffers.truncated),
  };
}

function reset(seed: number | undefined): Array<Info | null> {
  const v = views!;
  const infos: Array<Info | null> = [];
  for (let k = 0; k < envs.length; k++) {
    const g = init.first + k;
    current = g;
    const r = envs[k]!.reset(seed === undefined ? {} : { seed: seed + g });
    v.obs.set(r.obs, g * obsSize);
    infos.push(isEmpty(r.info) ? null : r.info);
  }
  current = null;
  return infos;
}

function step(): Array<Info | null> {
  const v = views!;
  const infos: Array<Info | null> = [];
  for (let k = 0; k < envs.length; k++) {
    const g = init.first + k;
    current = g;
    const env = envs[k]!;
    const r = env.step(v.actions[g]!);
    v.rewards[g] = r.reward;
    v.terminated[g] = r.terminated ? 1 : 0;
    v.truncated[g] = r.truncated ? 1 : 0;
    if (r.terminated || r.truncated) {
      v.finalObs.set(r.obs, g * obsSize);
      const next = env.reset();
      v.obs.set(next.obs, g * obsSize);
      // finalObs itself is read by the parent from the shared buffer.
      infos.push({ ...next.info, finalInfo: r.info });
    } else {
      v.obs.set(r.obs, g * obsSize);
      infos.push(isEmpty(r.info) ? null : r.info);
    }
  }
  current = null;
  return infos;
}

function fail(phase: 'init' | 'reset' | 'step' | 'close', err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ type: 'error', phase, step: stepCount, envIndex: current, message: `${e.name}: ${e.message}`, stack: e.stack });
}

async function start(): Promise<void> {
  try {
    for (const m of init.modules) await import(m);
    await import(init.gamesModule);
    envs = Array.from({ length: init.count }, () => make<ObsArray, number>(init.id, init.options));
    const first = envs[0]!;
    obsSize = (first.observationSpace as Box).size;
    send({ type: 'ready', observationSpace: first.observationSpace.toJSON(), actionSpace: first.actionSpace.toJSON(), spec: first.spec });
  } catch (err) {
    fail('init', err);
  }
}

port.on('message', (m: ParentMessage) => {
  switch (m.type) {
    case 'attach':
      attach(m.buffers);
      send({ type: 'attached' });
      return;
    case 'reset':
      try {
        send({ type: 'done', infos: reset(m.seed) });
      } catch (err) {
        fail('reset', err);
      }
      return;
    case 'step':
      stepCount = m.step;
      try {
        send({ type: 'done', infos: step() });
      } catch (err) {
        fail('step', err);
      }
      return;
    case 'close':
      try {
        for (const e of envs) e.close();
        send({ type: 'closed' });
      } catch (err) {
        fail('close', err);
      }
      return;
  }
});

void start();
