/**
 * The learner of a distributed DQN or PPO run: the runner's experience source
 * (`TrainOptions.experience`). It reads actors' batches from the run's Redis Stream with a consumer
 * group, checks each one (untrusted), adds it to the agent's replay memory, acknowledges it (XACK
 * and the per-actor count in one MULTI), then runs the updates the new transitions owe, exactly as
 * the in-process loop does per env step. It publishes the online weights every `publishEvery`
 * updates and trims acknowledged entries so the stream stays bounded.
 *
 * PPO (IMPALA-style): acknowledged segments wait in a `SegmentRollout` until they hold the run's
 * rollout; the agent then corrects for the actors' policy lag with V-trace and runs its PPO epochs
 * (`PolicyGradientAgent.learnOffPolicy`), and the learner publishes the new weights after every
 * such update. A segment acted with weights more than `maxPolicyLag` versions older than the
 * learner's is acknowledged and dropped (`stale_batches`): V-trace's truncated weights would make
 * it nearly worthless and it would still cost an update's share.
 *
 * Restarts: entries a dead learner read but did not acknowledge are claimed (XAUTOCLAIM) and read
 * first; acknowledged entries after the last checkpoint are lost with that learner's memory (the
 * replay memory is off-policy data; nothing else depends on them).
 */
import type { Redis } from 'ioredis';
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, SpaceMismatchError, formatError } from '../errors.js';
import type { Box } from '../envs/spaces.js';
import type { DqnAgent } from '../agents/dqn/dqn-agent.js';
import type { DqnConfig } from '../agents/dqn/config.js';
import type { UpdateMetrics } from '../agents/agent.js';
import type { ExperienceContext, ExperienceSource } from '../train/runner.js';
import { ExperienceError, decodeExperience, type ExperienceBatch, type ExperienceExpect } from './experience.js';
import { checkJoin, distKeys, encodeWeights, META_FORMAT, META_VERSION, networkHash, parseRunMeta, policyNetworkHash, type RunMeta } from './run-meta.js';
import { SegmentRollout } from './ppo-segments.js';
import type { PolicyGradientAgent } from '../agents/pg/learner.js';
import { retryingRedis } from './redis-retry.js';
import type { RedisTarget } from './redis-url.js';

export interface LearnerOptions {
  target: RedisTarget;
  /** Gradient updates between weight publications (Ape-X: actors refresh every ~400 frames). */
  publishEvery?: number;
  /** Stream entries read per XREADGROUP. */
  readCount?: number;
  /** Milliseconds an XREADGROUP waits for new entries. */
  blockMs?: number;
  /** PPO: segments acted with weights more than this many versions behind the learner's are dropped. */
  maxPolicyLag?: number;
  /** PPO: V-trace's rho_bar and c_bar (IMPALA: 1 and 1). */
  rhoBar?: number;
  cBar?: number;
}

export const DEFAULT_PUBLISH_EVERY = 50;
/** PPO: the default lag bound, in weight versions (one version per update). */
export const DEFAULT_MAX_POLICY_LAG = 20;

/** Checks the PPO learner options, every bad one at once. */
export function checkLearnerOptions(o: Pick<LearnerOptions, 'maxPolicyLag' | 'rhoBar' | 'cBar'>): void {
  const bad: string[] = [];
  if (o.maxPolicyLag !== undefined && !(Number.isSafeInteger(o.maxPolicyLag) && o.maxPolicyLag >= 0)) bad.push(`--max-policy-lag ${JSON.stringify(o.maxPolicyLag)} (want an integer >= 0)`);
  const rho = o.rhoBar ?? 1;
  if (!(rho > 0 && Number.isFinite(rho))) bad.push(`--rho-bar ${JSON.stringify(o.rhoBar)} (want > 0)`);
  if (!(Number.isFinite(o.cBar ?? 1) && (o.cBar ?? 1) > 0 && (o.cBar ?? 1) <= rho)) bad.push(`--c-bar ${JSON.stringify(o.cBar)} (want in (0, rho-bar])`);
  if (bad.length) throw new InvalidConfigError(formatError('train --distributed', 'valid V-trace options', bad.join('; '), 'fix the listed flags'));
}

type Entry = [Buffer, Buffer[] | null];

/** `id` + 1 in the stream's id order (XTRIM MINID keeps ids >= it). */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

export class RedisLearner implements ExperienceSource {
  private readonly keys: ReturnType<typeof distKeys>;
  private readonly publishEvery: number;
  private readonly readCount: number;
  /** The most transitions one entry has carried (0: none read yet); bounds a read near the end of the budget. */
  private entrySize = 0;
  private readonly blockMs: number;
  private redis: Redis | null = null;
  private ctx: ExperienceContext | null = null;
  private agent: DqnAgent | null = null;
  /** PPO runs: the agent and the segments waiting to make a rollout. */
  private pg: PolicyGradientAgent | null = null;
  private segments: SegmentRollout | null = null;
  /** The weights version last published (segments are dropped by their lag behind it). */
  private version = 0;
  private staleSaid = false;
  private meta: RunMeta | null = null;
  private expect: ExperienceExpect | null = null;
  private readonly consumer = `learner-${process.pid}-${Date.now()}`;
  /** Where the next read of this consumer's pending history starts; null once it is read ('>' from then on). */
  private historyFrom: string | null = '0';
  private lastUpdatesPublished = -1;
  /** Reads since the last trim. */
  private untrimmed = 0;
  private lastReadId: string | null = null;
  private restoreNeeded = false;
  private closed = false;
  /** Transitions this process acknowledged, per actor. */
  readonly ackedByActor = new Map<string, number>();
  acked = 0;
  dropped = 0;
  reclaimed = 0;
  /** PPO: segments dropped for lagging more than maxPolicyLag versions, and their transitions. */
  stale = 0;
  staleTransitions = 0;

  constructor(private readonly options: LearnerOptions) {
    this.keys = distKeys(options.target.name);
    this.publishEvery = options.publishEvery ?? DEFAULT_PUBLISH_EVERY;
    this.readCount = options.readCount ?? 16;
    this.blockMs = options.blockMs ?? 100;
  }

  async check(ctx: ExperienceContext): Promise<void> {
    this.ctx = ctx;
    const { cfg, agent } = ctx;
    if (cfg.selfplay) throw new InvalidConfigError(formatError('train --distributed', 'a single-agent run', 'a self-play run', 'train self-play without --distributed'));
    if ((cfg.agent !== 'dqn' && cfg.agent !== 'ppo') || agent.recurrent) throw new InvalidConfigError(formatError('train --distributed', 'agent dqn or ppo, feed-forward (Ape-X or V-trace actors and a learner)', `agent ${cfg.agent}${agent.recurrent ? ' (recurrent)' : ''}`, 'train without --distributed, or with --agent dqn or ppo'));
    if (cfg.agent === 'ppo') return this.checkPpo(ctx);
    const ppoOnly = (['maxPolicyLag', 'rhoBar', 'cBar'] as const).filter((k) => this.options[k] !== undefined);
    if (ppoOnly.length) throw new InvalidConfigError(formatError('train --distributed', 'V-trace flags with agent ppo only', `${ppoOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} with agent ${cfg.agent}`, 'drop them (DQN learns off-policy from its replay memory)'));
    const config = cfg.agentConfig as unknown as DqnConfig;
    if (config.frameStack !== 1) throw new InvalidConfigError(formatError('train --distributed', 'frameStack 1 (actors send segments; stacks would be rebuilt across their cuts)', `frameStack ${config.frameStack}`, 'stack frames with an env wrapper instead'));
    this.agent = agent as DqnAgent;
    const box = ctx.observationSpace as Box;
    const netHash = networkHash(config, ctx.observationSpace, ctx.actionSpace);
    this.meta = {
      format: META_FORMAT,
      version: META_VERSION,
      runId: ctx.runId,
      game: cfg.game,
      agent: cfg.agent,
      envOptions: cfg.run.envOptions,
      observationSpace: ctx.observationSpace.toJSON(),
      actionSpace: ctx.actionSpace.toJSON(),
      agentConfig: cfg.agentConfig,
      netHash,
      seed: cfg.run.seed,
      state: 'running',
    };
    this.expect = { game: cfg.game, runId: ctx.runId, netHash, obsShape: [...box.shape], obsDtype: box.dtype, numActions: this.agent.numActions, prioritized: config.prioritized !== null };
    await this.connectAndCheck(ctx, netHash);
  }

  /** `check` of a PPO run: the policy's shape hash, the segment length and action space batches must have. */
  private async checkPpo(ctx: ExperienceContext): Promise<void> {
    const { cfg } = ctx;
    checkLearnerOptions(this.options);
    const pg = ctx.agent as PolicyGradientAgent;
    if (pg.config.normObs || pg.config.normReward) throw new InvalidConfigError(formatError('train --distributed', 'a ppo config without normObs/normReward (actors and learner share weights, not statistics)', pg.config.normObs ? 'normObs true' : 'normReward true', 'set them false, or train without --distributed'));
    this.pg = pg;
    const box = ctx.observationSpace as Box;
    const netHash = policyNetworkHash(pg);
    this.segments = new SegmentRollout({ numSteps: pg.config.numSteps, numEnvs: pg.numEnvs, obsSize: pg.obsSize, actionWidth: pg.actionWidth });
    this.meta = { format: META_FORMAT, version: META_VERSION, runId: ctx.runId, game: cfg.game, agent: cfg.agent, envOptions: cfg.run.envOptions, observationSpace: ctx.observationSpace.toJSON(), actionSpace: ctx.actionSpace.toJSON(), agentConfig: cfg.agentConfig, netHash, seed: cfg.run.seed, state: 'running' };
    const a = pg.action;
    this.expect = { game: cfg.game, runId: ctx.runId, netHash, obsShape: [...box.shape], obsDtype: box.dtype, numActions: pg.numActions, prioritized: false, actions: a.kind === 'discrete' ? { kind: 'discrete', n: a.n } : a.kind === 'multi-discrete' ? { kind: 'multi-discrete', nvec: [...a.nvec] } : { kind: 'box', dims: a.dims }, logProbs: true, steps: pg.config.numSteps };
    await this.connectAndCheck(ctx, netHash);
  }

  /** Connects and refuses a name another unfinished run (or another game or shape) holds. */
  private async connectAndCheck(ctx: ExperienceContext, netHash: string): Promise<void> {
    const { cfg } = ctx;
    const who = 'npcforge learner';
    this.redis = retryingRedis(this.options.target, { who, say: ctx.warn, onBack: () => void (this.restoreNeeded = true) });
    const existing = parseRunMeta(await this.redis.get(this.keys.meta), this.keys.meta);
    if (existing && existing.runId !== ctx.runId) {
      checkJoin(existing, { game: cfg.game, netHash, observationSpace: this.meta!.observationSpace, actionSpace: this.meta!.actionSpace }, who, this.options.target.display);
      if (existing.state === 'running') {
        throw new SpaceMismatchError(formatError(who, `no other learner on ${this.options.target.display}`, `run ${existing.runId} (not finished)`, `resume it with \`npcforge train --resume <runs>/${existing.runId}\`, or use another name after the host`));
      }
    }
    if (existing && existing.runId === ctx.runId && !ctx.resumed) throw new SpaceMismatchError(formatError(who, `a new name for a new run`, `run ${existing.runId} already on ${this.options.target.display}`, 'use another name after the host'));
  }

  async start(): Promise<void> {
    const redis = this.redis!;
    const existing = parseRunMeta(await redis.get(this.keys.meta), this.keys.meta);
    // A finished run of the same game and shape on this name: its data is not this run's.
    if (existing && existing.runId !== this.meta!.runId) await redis.del(this.keys.stream, this.keys.weights, this.keys.acked, this.keys.pushed, this.keys.actors);
    await this.restore();
    // Entries a previous learner of this run read but never acknowledged: this consumer takes them and reads them first.
    let cursor = '0-0';
    do {
      const [next, ids] = (await redis.xautoclaim(this.keys.stream, this.keys.group, this.consumer, 0, cursor, 'COUNT', 1000, 'JUSTID')) as [string, string[]];
      this.reclaimed += ids.length;
      cursor = next;
    } while (cursor !== '0-0');
    if (this.reclaimed) this.ctx!.warn(`npcforge learner: reclaimed ${this.reclaimed} batch${this.reclaimed === 1 ? '' : 'es'} a previous learner read but had not acknowledged`);
    // Consumers of dead learners hold nothing now.
    const consumers = (await redis.xinfo('CONSUMERS', this.keys.stream, this.keys.group)) as unknown[][];
    for (const c of consumers) {
      const name = String(c[1]);
      if (name !== this.consumer) await redis.xgroup('DELCONSUMER', this.keys.stream, this.keys.group, name);
    }
    // What a killed learner acknowledged but had not trimmed yet would hold actors back.
    await this.trim();
    this.ctx!.warn(`npcforge learner: waiting for actors: npcforge actor ${this.options.target.display}`);
  }

  /** (Re)writes what Redis must hold for actors: the meta, the consumer group, the weights (after a start or a Redis restart). */
  private async restore(): Promise<void> {
    const redis = this.redis!;
    await redis.set(this.keys.meta, JSON.stringify(this.meta));
    try {
      await redis.xgroup('CREATE', this.keys.stream, this.keys.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
    await this.publish();
  }

  /** Publishes the online weights under a new version (HINCRBY keeps versions rising over learner restarts). */
  private async publish(): Promise<void> {
    const agent = this.agent;
    const tensors = agent ? await Promise.all(agent.online.weights.map(async (w) => ({ shape: [...w.shape] as number[], data: (await (w.read() as tf.Tensor).data()) as Float32Array }))) : await this.pg!.net.getWeights();
    const blob = Buffer.from(encodeWeights(tensors));
    // PPO actors follow no schedule: the step count is only a figure for them.
    const envSteps = agent ? agent.envSteps : this.acked;
    const res = await this.redis!.multi().hincrby(this.keys.weights, 'version', 1).hset(this.keys.weights, 'envSteps', String(envSteps), 'blob', blob).exec();
    const version = Number(res?.[0]?.[1]);
    this.version = version;
    await this.redis!.publish(this.keys.channel, String(version));
    if (agent) this.lastUpdatesPublished = agent.updates;
  }


  async next(remaining: number): Promise<{ steps: number; episodeReturns: number[]; metrics: UpdateMetrics | null }> {
    const redis = this.redis!;
    if (this.restoreNeeded) {
      this.restoreNeeded = false;
      // A Redis restarted without persistence lost the meta, group and weights; with persistence this rewrites the same.
      await this.restore();
    }
    let reply: Array<[Buffer, Entry[]]> | null;
    try {
      const from = this.historyFrom ?? '>';
      // No more entries than the budget needs (at the largest batch seen so far): a run asked for N
      // steps ends within a batch of N, and what it would not need stays in the stream, unread.
      const count = this.entrySize > 0 ? Math.max(1, Math.min(this.readCount, Math.ceil(remaining / this.entrySize))) : this.readCount;
      // Only new entries are waited for; reading this consumer's pending history answers at once.
      const r = from === '>' ? await redis.xreadgroupBuffer('GROUP', this.keys.group, this.consumer, 'COUNT', count, 'BLOCK', this.blockMs, 'STREAMS', this.keys.stream, from) : await redis.xreadgroupBuffer('GROUP', this.keys.group, this.consumer, 'COUNT', count, 'STREAMS', this.keys.stream, from);
      reply = r as Array<[Buffer, Entry[]]> | null;
    } catch (err) {
      if (!/NOGROUP/.test((err as Error).message)) throw err;
      this.restoreNeeded = true;
      return { steps: 0, episodeReturns: [], metrics: null };
    }
    const entries = reply?.[0]?.[1] ?? [];
    if (this.historyFrom !== null) {
      if (!entries.length) this.historyFrom = null;
      else this.historyFrom = String(entries[entries.length - 1]![0]);
    }
    if (!entries.length) {
      // Idle: trim what the last reads acknowledged, or actors waiting on the backlog would wait forever.
      if (this.untrimmed) await this.trim();
      return { steps: 0, episodeReturns: [], metrics: null };
    }
    const agent = this.agent;
    const returns: number[] = [];
    const perActor = new Map<string, number>();
    let steps = 0;
    for (const [idBuf, fields] of entries) {
      const id = String(idBuf);
      this.lastReadId = id;
      // A pending entry that was trimmed away reads back without fields: only its acknowledgement is left to do.
      if (!fields) continue;
      let batch: ExperienceBatch;
      try {
        const raw = fields.length === 2 && String(fields[0]) === 'b' ? fields[1]! : null;
        if (!raw) throw new ExperienceError(formatError('experience', "one field 'b' with the batch", `${fields.length / 2} fields in entry ${id}`, 'actors must run the same npcforge version as the learner; the batch was dropped'));
        batch = decodeExperience(raw, this.expect!, `entry ${id}`);
      } catch (err) {
        if (!(err instanceof ExperienceError)) throw err;
        // Dropped, not fatal: one writer's bad batch must not stop a learner that many actors feed.
        this.dropped++;
        this.ctx!.warn(`npcforge learner: dropped a batch: ${err.message}`);
        continue;
      }
      let n = batch.header.numEnvs * batch.header.steps;
      this.entrySize = Math.max(this.entrySize, n);
      if (this.pg) {
        // The lag is measured on arrival, against the weights the learner published last.
        const lag = this.version - batch.header.weightsVersion;
        if (lag > (this.options.maxPolicyLag ?? DEFAULT_MAX_POLICY_LAG)) {
          this.stale++;
          this.staleTransitions += n;
          if (!this.staleSaid) this.ctx!.warn(`npcforge learner: dropped a segment of ${batch.header.actorId} acted with weights ${lag} versions old (more than --max-policy-lag ${this.options.maxPolicyLag ?? DEFAULT_MAX_POLICY_LAG}); further ones are counted in stale_batches`);
          this.staleSaid = true;
          continue;
        }
        this.segments!.add(batch);
      } else n = addBatch(agent!, batch);
      steps += n;
      perActor.set(batch.header.actorId, (perActor.get(batch.header.actorId) ?? 0) + n);
      returns.push(...batch.header.episodeReturns);
    }
    // Acknowledged once the data is in the replay memory; the per-actor counts change in the same transaction.
    // The learner's step count goes along: actors follow the run's epsilon schedule at it.
    const tx = redis.multi().xack(this.keys.stream, this.keys.group, ...entries.map(([id]) => String(id))).hset(this.keys.weights, 'envSteps', String(agent ? agent.envSteps + steps : this.acked + steps));
    for (const [actor, n] of perActor) tx.hincrby(this.keys.acked, actor, n);
    await tx.exec();
    this.acked += steps;
    for (const [actor, n] of perActor) this.ackedByActor.set(actor, (this.ackedByActor.get(actor) ?? 0) + n);
    // Every read: actors measure the backlog by the stream's length, so acknowledged entries must not linger.
    this.untrimmed++;
    await this.trim();
    if (this.pg) return { steps, episodeReturns: returns, metrics: await this.learnPpo() };
    const metrics = steps ? await agent!.learnCollected(steps) : null;
    if (agent!.updates - this.lastUpdatesPublished >= this.publishEvery) await this.publish();
    return { steps, episodeReturns: returns, metrics };
  }

  /** PPO: one V-trace update per rollout the waiting segments hold, new weights after each; the last update's metrics. */
  private async learnPpo(): Promise<UpdateMetrics | null> {
    let metrics: UpdateMetrics | null = null;
    while (this.segments!.ready()) {
      metrics = await this.pg!.learnOffPolicy(this.segments!.take(), { rhoBar: this.options.rhoBar ?? 1, cBar: this.options.cBar ?? 1 });
      await this.publish();
    }
    return metrics;
  }

  /** Drops acknowledged entries: everything older than the oldest pending one (or than the last read when none is pending). */
  private async trim(): Promise<void> {
    const redis = this.redis!;
    let summary: [number, string | null, string | null, unknown];
    try {
      summary = (await redis.xpending(this.keys.stream, this.keys.group)) as typeof summary;
    } catch (err) {
      // Redis restarted without the stream: `restore` recreates it before the next read.
      if (!/NOGROUP/.test((err as Error).message)) throw err;
      this.restoreNeeded = true;
      return;
    }
    const minId = summary[0] > 0 && summary[1] ? summary[1] : this.lastReadId ? nextId(this.lastReadId) : null;
    if (minId) await redis.xtrim(this.keys.stream, 'MINID', minId);
    this.untrimmed = 0;
  }

  async close(finished: boolean): Promise<void> {
    if (this.closed || !this.redis) return;
    this.closed = true;
    const redis = this.redis;
    try {
      if (finished && redis.status === 'ready') {
        await this.trim();
        await this.publish();
        // Actors exit when they see it; a later learner on the name may take it over.
        await redis.set(this.keys.meta, JSON.stringify({ ...this.meta, state: 'done' }));
      }
    } finally {
      redis.disconnect();
    }
  }

  async stats(): Promise<Record<string, unknown>> {
    const ppo = this.pg ? { stale_batches: this.stale, stale_transitions: this.staleTransitions, weights_version: this.version, vtrace: { rho_bar: this.options.rhoBar ?? 1, c_bar: this.options.cBar ?? 1, max_policy_lag: this.options.maxPolicyLag ?? DEFAULT_MAX_POLICY_LAG } } : {};
    return { acked_transitions: this.acked, acked_by_actor: Object.fromEntries(this.ackedByActor), dropped_batches: this.dropped, reclaimed_batches: this.reclaimed, ...ppo };
  }
}

/** Adds a checked batch to the agent's replay memory, one segment per actor sub-env; returns the transitions added. */
export function addBatch(agent: DqnAgent, b: ExperienceBatch): number {
  const { numEnvs: E, steps: T } = b.header;
  const obsSize = agent.obsSize;
  // Final observations are stored env-major then step order: the segment of env e starts at finalStart[e].
  const finalStart: number[] = [];
  let ends = 0;
  for (let e = 0; e < E; e++) {
    finalStart.push(ends);
    for (let t = 0; t < T; t++) if (b.terminated[e * T + t] || b.truncated[e * T + t]) ends++;
  }
  const segments = [];
  for (let e = 0; e < E; e++) {
    let k = finalStart[e]!;
    const finalAt = new Map<number, number>();
    for (let t = 0; t < T; t++) if (b.terminated[e * T + t] || b.truncated[e * T + t]) finalAt.set(t, k++);
    segments.push({
      steps: T,
      obs: b.obs,
      offset: e * (T + 1) * obsSize,
      actions: b.actions,
      rewards: b.rewards,
      terminated: b.terminated,
      truncated: b.truncated,
      at: e * T,
      finalObs: (t: number) => b.finalObs.subarray(finalAt.get(t)! * obsSize, (finalAt.get(t)! + 1) * obsSize),
      priorities: b.priorities,
    });
  }
  return agent.addCollected(segments);
}
