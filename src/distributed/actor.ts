/**
 * An actor of a distributed DQN or PPO run (`npcforge actor redis://host:port/<name>`): joins the run its
 * learner announced in the meta key (refusing another game or network shape), steps its own vector
 * env with the latest weights it has, and pushes batches of transitions (`experience.ts`) to the
 * run's stream, with Ape-X initial priorities when the run's replay is prioritized.
 *
 * PPO runs: the actor builds the run's policy (`PolicyGradientAgent`, the same network and
 * distribution code as the learner), samples actions from it and pushes segments of
 * `envs x numSteps` transitions (the run's numSteps) with the behaviour policy's log-probabilities
 * of the actions taken, which the learner's V-trace weighs by pi/mu. Recurrent policies and
 * normObs/normReward are refused (state and statistics would have to travel with the weights).
 *
 * Exploration follows the run's own epsilon schedule at the learner's step count (published with
 * the weights), not Ape-X's fixed per-actor epsilons: the same schedule as a single-process run, so
 * that the two learn from comparable data per frame.
 *
 * It waits while the stream's backlog (XLEN: entries not yet read or not yet acknowledged, since the
 * learner trims acknowledged ones) is above `maxBacklog`, while the learner is away (killed and not
 * yet resumed) and while Redis is down; it exits when the learner marks the run done.
 */
import type { Redis } from 'ioredis';
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, formatError } from '../errors.js';
import { make } from '../envs/registry.js';
import type { Box } from '../envs/spaces.js';
import type { Env, ObsArray } from '../envs/env.js';
import { allocObs } from '../envs/spaces.js';
import { SyncVectorEnv } from '../envs/vector/sync-vector-env.js';
import { DqnAgent } from '../agents/dqn/dqn-agent.js';
import { DQN_PRESETS, resolveDqnConfig } from '../agents/dqn/config.js';
import { segmentPriorities } from '../agents/dqn/td.js';
import { initBackend } from '../networks/backend.js';
import { PolicyGradientAgent } from '../agents/pg/learner.js';
import type { ActionBatch } from '../envs/actions.js';
import { encodeExperience, MAX_BATCH_TRANSITIONS, type ExperienceBatch } from './experience.js';
import { checkJoin, decodeWeights, distKeys, networkHash, parseRunMeta, policyNetworkHash, type RunMeta } from './run-meta.js';
import { retryingRedis, sleep } from './redis-retry.js';
import type { RedisTarget } from './redis-url.js';

export interface ActorOptions {
  target: RedisTarget;
  /** Sub-envs this actor steps. */
  envs: number;
  /**
   * Steps per sub-env in one batch (a batch holds `envs * batchSteps` transitions). Default: 32 for
   * DQN; a PPO run's numSteps, the only length its learner takes.
   */
  batchSteps?: number;
  /** Stream entries (batches) above which the actor waits before pushing. */
  maxBacklog: number;
  /** Seed of the envs and exploration (default: the run's seed + 7919 x the actor's number). */
  seed?: number;
  /** The game this actor expects; another game on the stream is refused. */
  game?: string;
  /** Stop after pushing this many transitions (default: until the learner is done). */
  maxTransitions?: number;
  /** Polled between steps: true = stop after the batch in hand. */
  shouldStop: () => boolean;
  /** One-line reports (stderr). */
  say: (line: string) => void;
}

export const DEFAULT_ACTOR_OPTIONS = { envs: 4, batchSteps: 32, maxBacklog: 16 } as const;

export interface ActorResult {
  actorId: string;
  /** Transitions this actor added to the stream (XADD succeeded). */
  pushed: number;
  /** Of those, transitions the learner acknowledged (its per-actor count in Redis). */
  acked: number;
  batches: number;
  /** Why it stopped: the learner finished (`done`), a stop signal (`stopped`), `maxTransitions` (`limit`). */
  reason: 'done' | 'stopped' | 'limit';
}

const who = 'npcforge actor';

/** Writes weights decoded by `decodeWeights` (same order and shapes) into `model`; leaves no tensor behind. */
export function setModelWeights(model: tf.LayersModel, data: Float32Array[]): void {
  // A variable keeps the data of the tensor it is assigned; the tensor itself is tidy's to dispose.
  tf.tidy(() => model.weights.forEach((w, i) => w.write(tf.tensor(data[i]!, [...w.shape] as number[], 'float32'))));
}

/** Checks the options of `runActor`, every bad field at once. */
export function checkActorOptions(o: Pick<ActorOptions, 'envs' | 'batchSteps' | 'maxBacklog'>): void {
  const bad: string[] = [];
  if (!Number.isSafeInteger(o.envs) || o.envs < 1 || o.envs > 4096) bad.push(`--envs ${o.envs} (want 1..4096)`);
  const steps = o.batchSteps ?? DEFAULT_ACTOR_OPTIONS.batchSteps;
  if (!Number.isSafeInteger(steps) || steps < 1) bad.push(`--batch-steps ${o.batchSteps} (want >= 1)`);
  if (o.envs * steps > MAX_BATCH_TRANSITIONS) bad.push(`--envs x --batch-steps = ${o.envs * steps} (want <= ${MAX_BATCH_TRANSITIONS})`);
  if (!Number.isSafeInteger(o.maxBacklog) || o.maxBacklog < 1) bad.push(`--max-backlog ${o.maxBacklog} (want >= 1)`);
  if (bad.length) throw new InvalidConfigError(formatError(who, 'valid actor options', bad.join('; '), 'fix the listed flags'));
}

/** Waits for the run's meta (a learner that has not started yet); null when told to stop. */
async function waitForMeta(redis: Redis, key: string, o: ActorOptions): Promise<RunMeta | null> {
  let said = false;
  for (;;) {
    const meta = parseRunMeta(await redis.get(key), key);
    if (meta && meta.state === 'running') return meta;
    if (o.shouldStop()) return null;
    if (!said) {
      const wait = `${who}: waiting for a learner on ${o.target.display}`;
      o.say(meta ? `${wait}: its run ${meta.runId} is done (resume it with npcforge train --resume <runs>/${meta.runId} --steps <more>, or start a new run on the name)` : `${wait} (start one with npcforge train <game> --distributed ${o.target.display})`);
      said = true;
    }
    await sleep(250);
  }
}

/** Runs an actor until the learner is done, a stop or `maxTransitions`. */
export async function runActor(o: ActorOptions): Promise<ActorResult> {
  checkActorOptions(o);
  const keys = distKeys(o.target.name);
  const redis = retryingRedis(o.target, { who, say: o.say });
  let agent: DqnAgent | null = null;
  let pg: PolicyGradientAgent | null = null;
  let vec: SyncVectorEnv | null = null;
  try {
    // The compute backend starts before the wait, so an actor joins a learner that appears at once.
    await initBackend();
    const first = await waitForMeta(redis, keys.meta, o);
    if (!first) return { actorId: '', pushed: 0, acked: 0, batches: 0, reason: 'stopped' };
    const meta = first;
    if (o.game !== undefined && o.game !== meta.game) {
      checkJoin(meta, { game: o.game, netHash: meta.netHash, observationSpace: meta.observationSpace, actionSpace: meta.actionSpace }, who, o.target.display);
    }
    if (meta.agent !== 'dqn' && meta.agent !== 'ppo') throw new InvalidConfigError(formatError(who, 'a dqn or ppo run', `a ${meta.agent} run at ${o.target.display}`, 'actors feed DQN and PPO learners only'));
    const ppo = meta.agent === 'ppo';
    vec = new SyncVectorEnv(() => make(meta.game, meta.envOptions) as Env<ObsArray, number>, o.envs);
    const observationSpace = vec.singleObservationSpace;
    const actionSpace = vec.singleActionSpace;
    const config = ppo ? null : resolveDqnConfig(DQN_PRESETS.minatar!, meta.agentConfig);
    let T = o.batchSteps ?? DEFAULT_ACTOR_OPTIONS.batchSteps;
    if (ppo) {
      // The run's own policy code, seeded later (its initial weights are replaced by the learner's).
      pg = new PolicyGradientAgent({ config: meta.agentConfig as ConstructorParameters<typeof PolicyGradientAgent>[0]['config'], observationSpace, actionSpace, numEnvs: o.envs, seed: 0 });
      if (pg.recurrent || pg.config.normObs || pg.config.normReward) throw new InvalidConfigError(formatError(who, 'a feed-forward ppo run without normObs/normReward', `a ${pg.recurrent ? 'recurrent' : 'normalising'} ppo run at ${o.target.display}`, 'train it without --distributed'));
      const numSteps = pg.config.numSteps;
      if (o.batchSteps !== undefined && o.batchSteps !== numSteps) throw new InvalidConfigError(formatError(who, `--batch-steps ${numSteps} (the ppo run's numSteps: its learner takes segments of that length)`, `--batch-steps ${o.batchSteps}`, 'drop --batch-steps'));
      T = numSteps;
      checkActorOptions({ envs: o.envs, batchSteps: T, maxBacklog: o.maxBacklog });
    }
    const netHash = pg ? policyNetworkHash(pg) : networkHash(config!, observationSpace, actionSpace);
    checkJoin(meta, { game: meta.game, netHash, observationSpace: observationSpace.toJSON(), actionSpace: actionSpace.toJSON() }, who, o.target.display);
    const actorNumber = await redis.incr(keys.actors);
    const actorId = `a${actorNumber}`;
    const seed = o.seed ?? (meta.seed + 7919 * actorNumber) % 0x7fff0000;
    if (pg) {
      pg.dispose();
      pg = new PolicyGradientAgent({ config: meta.agentConfig as ConstructorParameters<typeof PolicyGradientAgent>[0]['config'], observationSpace, actionSpace, numEnvs: o.envs, seed });
    } else {
      // The actor never learns: a replay memory of the minimum size keeps its memory small.
      agent = new DqnAgent({ config: { ...config!, bufferSize: o.envs * 64 }, observationSpace, actionSpace, numEnvs: o.envs, seed });
    }
    const box = observationSpace as Box;
    const obsSize = box.size;
    const E = o.envs;
    o.say(`${who}: ${actorId} joined run ${meta.runId} (${meta.game}, ${meta.agent}) on ${o.target.display} with ${E} envs, ${E * T} transitions per batch`);
    const shapes = pg ? pg.net.variables.map((v) => [...v.shape] as number[]) : agent!.online.weights.map((w) => [...w.shape] as number[]);
    let weightsVersion = -1;
    let learnerSteps = 0;
    /** Loads newer weights when the learner published some; waits for the first ones. False = told to stop. */
    const refreshWeights = async (): Promise<boolean> => {
      for (;;) {
        const [version, steps] = await redis.hmget(keys.weights, 'version', 'envSteps');
        if (steps !== null) learnerSteps = Number(steps);
        if (version !== null && Number(version) !== weightsVersion) {
          const [blob, steps, v] = await redis.hmgetBuffer(keys.weights, 'blob', 'envSteps', 'version');
          if (blob && steps && v) {
            const data = decodeWeights(blob, shapes, keys.weights);
            if (pg) pg.net.setWeights(data.map((d, i) => ({ shape: shapes[i]!, data: d })));
            else setModelWeights(agent!.online, data);
            weightsVersion = Number(String(v));
            learnerSteps = Number(String(steps));
            return true;
          }
        }
        if (weightsVersion >= 0) return true;
        if (o.shouldStop()) return false;
        await sleep(100);
      }
    };
    /** The meta is still this run's and running: false = the learner finished (or another run took the name). */
    const runGoesOn = async (): Promise<boolean> => {
      for (;;) {
        const now = parseRunMeta(await redis.get(keys.meta), keys.meta);
        // No meta: Redis restarted without persistence and the learner has not restored it yet.
        if (now) return now.runId === meta.runId && now.state === 'running';
        if (o.shouldStop()) return true;
        await sleep(250);
      }
    };

    /**
     * What the loop checks before each batch, read in one round trip: the meta, the weights' version
     * and the learner's step count, the stream's length. After a push it comes back with the push.
     */
    interface Snapshot {
      meta: string | null;
      version: string | null;
      envSteps: string | null;
      backlog: number;
    }
    const snapshotOf = (res: Array<[Error | null, unknown]> | null, at: number): Snapshot => {
      const failed = res?.find(([err]) => err)?.[0];
      if (!res || failed) throw failed ?? new Error('Redis answered no results');
      const [version, envSteps] = res[at + 1]![1] as Array<string | null>;
      return { meta: res[at]![1] as string | null, version: version ?? null, envSteps: envSteps ?? null, backlog: Number(res[at + 2]![1]) };
    };
    const peek = async (): Promise<Snapshot> => snapshotOf(await redis.pipeline().get(keys.meta).hmget(keys.weights, 'version', 'envSteps').xlen(keys.stream).exec(), 0);
    /** Applies a snapshot: false = the learner finished. Falls back to the waiting paths when the meta or weights are missing. */
    const apply = async (snap: Snapshot): Promise<boolean | 'stop'> => {
      const now = parseRunMeta(snap.meta, keys.meta);
      if (!now) {
        if (!(await runGoesOn())) return false;
      } else if (now.runId !== meta.runId || now.state !== 'running') return false;
      if (snap.envSteps !== null) learnerSteps = Number(snap.envSteps);
      if (snap.version === null || Number(snap.version) !== weightsVersion) return (await refreshWeights()) ? true : 'stop';
      return true;
    };

    let obs = (await vec.reset({ seed })).obs;
    const episodeReturns = new Float64Array(E);
    let pushed = 0;
    let batches = 0;
    let throttledSaid = false;
    let reason: ActorResult['reason'] = 'stopped';
    let snap: Snapshot | null = null;
    for (;;) {
      if (o.shouldStop()) break;
      snap ??= await peek();
      const goesOn = await apply(snap);
      if (goesOn === 'stop') break;
      if (!goesOn) {
        reason = 'done';
        o.say(`${who}: ${actorId}: run ${meta.runId} is done`);
        break;
      }
      const backlog = snap.backlog;
      snap = null;
      // The run's schedule at the learner's step count (advanced below by what this actor steps in the batch).
      if (agent) agent.envSteps = learnerSteps;
      const batchObs = allocObs(box.dtype, E * (T + 1) * obsSize);
      const Wa = pg ? pg.actionWidth : 1;
      const actions = pg?.action.kind === 'box' ? new Float32Array(E * T * Wa) : new Int32Array(E * T * Wa);
      const logProbs = pg ? new Float32Array(E * T) : null;
      const rewards = new Float32Array(E * T);
      const terminated = new Uint8Array(E * T);
      const truncated = new Uint8Array(E * T);
      const finals: ObsArray[][] = Array.from({ length: E }, () => []);
      const ended: number[] = [];
      for (let t = 0; t < T; t++) {
        for (let e = 0; e < E; e++) batchObs.set(obs.subarray(e * obsSize, (e + 1) * obsSize), (e * (T + 1) + t) * obsSize);
        let a: ActionBatch;
        if (pg) {
          const b = await pg.behaviourStep(obs, E);
          a = b.envActions;
          // Stored as sampled (Box: unclipped), the action the log-probability belongs to.
          for (let e = 0; e < E; e++) {
            actions.set(b.actions.subarray(e * Wa, (e + 1) * Wa), (e * T + t) * Wa);
            logProbs![e * T + t] = b.logProbs[e]!;
          }
        } else {
          a = (await agent!.act(obs, { numEnvs: E, mode: 'train' })).actions;
          for (let e = 0; e < E; e++) actions[e * T + t] = (a as Int32Array)[e]!;
        }
        const r = await vec.step(a);
        for (let e = 0; e < E; e++) {
          const i = e * T + t;
          rewards[i] = r.rewards[e]!;
          terminated[i] = r.terminated[e]!;
          truncated[i] = r.truncated[e]!;
          episodeReturns[e]! += r.rewards[e]!;
          if (r.terminated[e] || r.truncated[e]) {
            finals[e]!.push(r.infos[e]!.finalObs as ObsArray);
            ended.push(episodeReturns[e]!);
            episodeReturns[e] = 0;
          }
        }
        obs = r.obs;
        if (agent) agent.envSteps += E;
      }
      for (let e = 0; e < E; e++) batchObs.set(obs.subarray(e * obsSize, (e + 1) * obsSize), (e * (T + 1) + T) * obsSize);
      const allFinals = finals.flat();
      const finalObs = allocObs(box.dtype, allFinals.length * obsSize);
      allFinals.forEach((f, k) => finalObs.set(f, k * obsSize));
      let priorities: Float32Array | null = null;
      if (agent && config!.prioritized) {
        const q = await agent.qValues(batchObs, E * (T + 1));
        const qFinal = allFinals.length ? await agent.qValues(finalObs, allFinals.length) : new Float32Array(0);
        priorities = segmentPriorities({ numEnvs: E, steps: T, numActions: agent.numActions, q, qFinal, actions: actions as Int32Array, rewards, terminated, truncated, gamma: config!.gamma, nStep: config!.nStep });
      }
      const batch: ExperienceBatch = {
        header: { game: meta.game, runId: meta.runId, netHash: meta.netHash, obsShape: [...box.shape], obsDtype: box.dtype, numActions: pg ? pg.numActions : agent!.numActions, weightsVersion, actorId, seq: batches, numEnvs: E, steps: T, episodeReturns: ended },
        obs: batchObs,
        actions,
        rewards,
        terminated,
        truncated,
        finalObs,
        priorities,
        logProbs,
      };
      const bytes = Buffer.from(encodeExperience(batch));
      // Rate limit (as Reverb's): wait while the learner has more than maxBacklog batches to take.
      let finished = false;
      // A short poll (at most 50 ms): with a long back-off the actor that just pushed takes every slot
      // the learner frees and the others starve; and a PPO segment waiting here ages by every update.
      // The length read before the batch was stepped (with the last push) saves a round trip; once over, it is polled.
      let length = backlog;
      for (let wait = 10; length > o.maxBacklog; wait = Math.min(50, wait * 2), length = await redis.xlen(keys.stream)) {
        if (!throttledSaid) o.say(`${who}: ${actorId}: the stream holds more than ${o.maxBacklog} batches; waiting for the learner`);
        throttledSaid = true;
        // A learner that finished leaves a backlog behind for good.
        if (o.shouldStop() || (finished = !(await runGoesOn()))) break;
        await sleep(wait);
      }
      if (finished) {
        reason = 'done';
        o.say(`${who}: ${actorId}: run ${meta.runId} is done`);
        break;
      }
      // The entry and this actor's pushed count change together: a kill leaves both or neither. The
      // next batch's checks ride along in the same round trip.
      snap = snapshotOf(await redis.multi().xadd(keys.stream, '*', 'b', bytes).hincrby(keys.pushed, actorId, E * T).get(keys.meta).hmget(keys.weights, 'version', 'envSteps').xlen(keys.stream).exec(), 2);
      pushed += E * T;
      batches++;
      if (o.maxTransitions !== undefined && pushed >= o.maxTransitions) {
        reason = 'limit';
        break;
      }
    }
    const acked = Number((await redis.hget(keys.acked, actorId)) ?? 0);
    return { actorId, pushed, acked, batches, reason };
  } finally {
    agent?.dispose();
    pg?.dispose();
    await vec?.close();
    redis.disconnect();
  }
}
