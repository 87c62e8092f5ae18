/**
 * Worker thread of WorkerVectorEnv: builds `count` sub-envs with `make(id, options)`, then serves
 * reset/step commands signalled through the shared control block, reading actions from and
 * writing observations, rewards and flags into the shared buffers. Only non-empty infos and
 * errors travel as messages.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { make } from '../registry.js';
import type { Env, ObsArray, Info } from '../env.js';
import type { Box } from '../spaces.js';
// Checkpoints of a run over workers snapshot the sub-envs where they live, with the one snapshot format.
import { restoreEnvChain, snapshotEnvChain, type EnvChainSnapshot } from '../env-state.js';
import { Command, CONTROL_SLOTS, Slot, type ParentMessage, type SharedBuffers, type WorkerInit, type WorkerMessage } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);
const base = init.worker * CONTROL_SLOTS;

let envs: Env<ObsArray, number>[] = [];
let obsSize = 0;
let stepCount = 0;
let current: number | null = null;

interface Views {
  control: Int32Array;
  obs: ObsArray;
  finalObs: ObsArray;
  actions: Int32Array;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
}

function typed(box: Box, buf: SharedArrayBuffer): ObsArray {
  return box.dtype === 'uint8' ? new Uint8Array(buf) : box.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
}

function isEmpty(info: Info): boolean {
  for (const _ in info) return false;
  return true;
}

function reset(v: Views, seed: number | undefined): Array<Info | null> {
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

function step(v: Views): Array<Info | null> {
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

function getStates(): Array<Info | null> {
  return envs.map((env, k) => {
    current = init.first + k;
    return { state: snapshotEnvChain(env as Env<unknown, unknown>) };
  });
}

/** The 'states' message the parent posted before signalling setState (it is queued by then; a short wait covers a slow delivery). */
function takeStatesMessage(c: Int32Array): Extract<ParentMessage, { type: 'states' }> {
  for (let tries = 0; tries < 1000; tries++) {
    const m = receiveMessageOnPort(port)?.message as ParentMessage | undefined;
    if (m?.type === 'states') return m;
    if (m) throw new Error(`expected a 'states' message, received '${m.type}'`);
    Atomics.wait(c, base + Slot.request, Atomics.load(c, base + Slot.request), 1);
  }
  throw new Error("no 'states' message arrived for setState");
}

function setStates(v: Views): void {
  const m = takeStatesMessage(v.control);
  if (m.states.length !== envs.length || m.seeds.length !== envs.length) throw new Error(`expected ${envs.length} states and seeds, received ${m.states.length} and ${m.seeds.length}`);
  for (let k = 0; k < envs.length; k++) {
    const g = init.first + k;
    current = g;
    const snap = m.states[k];
    if (snap) restoreEnvChain(envs[k] as Env<unknown, unknown>, snap as EnvChainSnapshot);
    else v.obs.set(envs[k]!.reset({ seed: m.seeds[k]! }).obs, g * obsSize);
  }
  current = null;
}

function errorMessage(seq: number, phase: 'init' | 'reset' | 'step' | 'close' | 'getState' | 'setState', err: unknown): WorkerMessage {
  const e = err instanceof Error ? err : new Error(String(err));
  return { type: 'error', seq, phase, step: stepCount, envIndex: current, message: `${e.name}: ${e.message}`, stack: e.stack };
}

/** Serves commands until `close`. Blocks this thread between commands (it has nothing else to do). */
function serve(v: Views): void {
  const c = v.control;
  let seq = 0;
  for (;;) {
    Atomics.wait(c, base + Slot.request, seq);
    const next = Atomics.load(c, base + Slot.request);
    if (next === seq) continue;
    seq = next;
    const command = c[base + Slot.command];
    const phase = command === Command.reset ? 'reset' : command === Command.step ? 'step' : command === Command.getState ? 'getState' : command === Command.setState ? 'setState' : 'close';
    let status = 0;
    try {
      let infos: Array<Info | null> = [];
      if (command === Command.reset) infos = reset(v, c[base + Slot.hasSeed] ? c[base + Slot.seed]! >>> 0 : undefined);
      else if (command === Command.step) {
        stepCount = c[base + Slot.step]!;
        infos = step(v);
      } else if (command === Command.getState) infos = getStates();
      else if (command === Command.setState) setStates(v);
      else {
        for (const e of envs) e.close();
      }
      if (infos.some((x) => x !== null)) {
        send({ type: 'done', seq, infos });
        status = 1;
      }
    } catch (err) {
      send(errorMessage(seq, phase, err));
      status = 1;
    }
    c[base + Slot.status] = status;
    Atomics.store(c, base + Slot.response, seq);
    Atomics.notify(c, base + Slot.response);
    if (command === Command.close) return;
  }
}

function attach(buffers: SharedBuffers): Views {
  const box = envs[0]!.observationSpace as Box;
  return {
    control: new Int32Array(buffers.control),
    obs: typed(box, buffers.obs),
    finalObs: typed(box, buffers.finalObs),
    actions: new Int32Array(buffers.actions),
    rewards: new Float64Array(buffers.rewards),
    terminated: new Uint8Array(buffers.terminated),
    truncated: new Uint8Array(buffers.truncated),
  };
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
    send(errorMessage(0, 'init', err));
    return;
  }
  port.once('message', (m: Extract<ParentMessage, { type: 'attach' }>) => {
    const views = attach(m.buffers);
    send({ type: 'attached' });
    serve(views);
    port.close();
  });
}

void start();
