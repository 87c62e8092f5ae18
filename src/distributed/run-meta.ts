/**
 * What actors and a learner of one distributed run share in Redis, under `npcforge:dist:<name>:`:
 * - `meta` (string, JSON): the run meta the learner writes (game, env options, spaces, agent
 *   config, network shape hash, run id, state); actors refuse a run they cannot join.
 * - `exp` (stream, consumer group `learner`): experience batches (`experience.ts`).
 * - `weights` (hash: `version`, `envSteps`, `blob`) and the pub/sub channel `weights` (the version):
 *   the learner's latest online weights.
 * - `acked` / `pushed` (hashes, field = actor id): transitions the learner acknowledged per actor
 *   (written in the same MULTI as the XACK) and transitions each actor added to the stream (written
 *   in the same MULTI as the XADD).
 * - `actors` (counter): hands out actor ids.
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { ConnectionError, SpaceMismatchError, describe, formatError } from '../errors.js';
import type { Space } from '../envs/spaces.js';
import type { DqnConfig } from '../agents/dqn/config.js';
import { qNetworkShapes } from '../agents/dqn/q-learning.js';
import type { PolicyGradientAgent } from '../agents/pg/learner.js';
import { actionKey } from '../agents/pg/rollout.js';

export const META_FORMAT = 'npcforge-distributed-run';
export const META_VERSION = 1;
/** Largest meta value read (a resolved agent config is a few kB). */
export const MAX_META_BYTES = 1024 * 1024;
/** Largest weights blob read (the MinAtar Q-network is ~3.5 MB as float32). */
export const MAX_WEIGHTS_BYTES = 512 * 1024 * 1024;

/** Redis key names of run `name`. */
export function distKeys(name: string): { meta: string; stream: string; weights: string; channel: string; acked: string; pushed: string; actors: string; group: string } {
  const p = `npcforge:dist:${name}:`;
  return { meta: `${p}meta`, stream: `${p}exp`, weights: `${p}weights`, channel: `${p}weights`, acked: `${p}acked`, pushed: `${p}pushed`, actors: `${p}actors`, group: 'learner' };
}

/** The meta key's value. */
export interface RunMeta {
  format: typeof META_FORMAT;
  version: number;
  /** The learner's run folder name. */
  runId: string;
  game: string;
  agent: string;
  envOptions: Record<string, unknown>;
  observationSpace: unknown;
  actionSpace: unknown;
  agentConfig: Record<string, unknown>;
  /** `networkHash` (dqn) or `policyNetworkHash` (ppo) of the network the actors must build. */
  netHash: string;
  seed: number;
  /** `running` while a learner trains; `done` once it finished its budget (actors then exit). */
  state: 'running' | 'done';
}

/**
 * Hash of what fixes the Q-network's shape (input shape, actions, encoder, head, Dict layout),
 * not its seed: two processes with the same hash build weights of the same shapes.
 */
export function networkHash(config: DqnConfig, observationSpace: Space, actionSpace: Space): string {
  const { netSpec } = qNetworkShapes('distributed', config, observationSpace, actionSpace, 0);
  const { seed: _seed, ...shape } = netSpec;
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

/**
 * Hash of what fixes a PPO policy's shape: the observation shape, the action space, the encoder
 * settings and every weight's shape (in order), not its seed or learning settings.
 */
export function policyNetworkHash(agent: PolicyGradientAgent): string {
  const c = agent.config;
  const shape = { obsShape: agent.obsShape, actions: actionKey(agent.action), encoder: c.encoder, mlpHidden: c.mlpHidden, separateCritic: c.separateCritic, lstmUnits: c.lstmUnits, weights: agent.net.variables.map((v) => v.shape) };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

/** Parses a meta value read from Redis (untrusted); throws ConnectionError naming the key. */
export function parseRunMeta(text: string | null, key: string): RunMeta | null {
  if (text === null) return null;
  const fail = (why: string): never => {
    throw new ConnectionError(formatError('distributed', `a run meta of format ${META_FORMAT} v${META_VERSION} at ${key}`, why, `start the learner again, or delete the key (redis-cli DEL ${key})`));
  };
  if (text.length > MAX_META_BYTES) fail(`${text.length} bytes`);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail('invalid JSON');
  }
  if (typeof m !== 'object' || m === null || m.format !== META_FORMAT) return fail('another format');
  if (m.version !== META_VERSION) fail(`version ${describe(m.version)}`);
  for (const k of ['runId', 'game', 'agent', 'netHash'] as const) if (typeof m[k] !== 'string') fail(`${k} ${describe(m[k])}`);
  if (m.state !== 'running' && m.state !== 'done') fail(`state ${describe(m.state)}`);
  if (!Number.isSafeInteger(m.seed)) fail(`seed ${describe(m.seed)}`);
  for (const k of ['envOptions', 'agentConfig'] as const) if (typeof m[k] !== 'object' || m[k] === null || Array.isArray(m[k])) fail(`${k} ${describe(m[k])}`);
  return m as unknown as RunMeta;
}

/**
 * Refuses to join `meta` from a process of another game or network shape: `who` names the side
 * (learner or actor) in the one-line message.
 */
export function checkJoin(meta: RunMeta, mine: { game: string; netHash: string; observationSpace: unknown; actionSpace: unknown }, who: string, display: string): void {
  const fix = `${who === 'actor' ? 'start the actor with the learner\'s npcforge version and game' : 'use another name after the host'} (run ${meta.runId} of ${meta.game} owns ${display})`;
  if (meta.game !== mine.game) throw new SpaceMismatchError(formatError(who, `a run of ${mine.game} at ${display}`, `a run of ${meta.game}`, fix));
  if (JSON.stringify(meta.observationSpace) !== JSON.stringify(mine.observationSpace) || JSON.stringify(meta.actionSpace) !== JSON.stringify(mine.actionSpace)) {
    throw new SpaceMismatchError(formatError(who, `the spaces of ${mine.game} here`, `other observation or action spaces at ${display}`, fix));
  }
  if (meta.netHash !== mine.netHash) throw new SpaceMismatchError(formatError(who, `network shape ${mine.netHash}`, `network shape ${meta.netHash} at ${display}`, fix));
}

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Encodes a model's weights (float32 tensors in order) for the weights key. */
export function encodeWeights(tensors: Array<{ shape: number[]; data: Float32Array }>): Uint8Array {
  return packr.pack({ format: 'npcforge-weights', version: 1, tensors: tensors.map((t) => ({ dtype: 'float32', shape: t.shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) })) });
}

/** Decodes a weights blob and checks it against the shapes the reader's model has; throws SpaceMismatchError. */
export function decodeWeights(raw: Uint8Array, shapes: number[][], source: string): Float32Array[] {
  const fail = (why: string): never => {
    throw new SpaceMismatchError(formatError('actor weights', `weights of the network shapes here (${shapes.length} tensors)`, `${why} at ${source}`, 'run actors and learner with the same npcforge version and config'));
  };
  if (raw.byteLength > MAX_WEIGHTS_BYTES) fail(`${raw.byteLength} bytes`);
  let doc: { format?: unknown; version?: unknown; tensors?: unknown };
  try {
    doc = packr.unpack(raw) as typeof doc;
  } catch {
    return fail('bytes that do not decode');
  }
  if (doc?.format !== 'npcforge-weights' || doc.version !== 1 || !Array.isArray(doc.tensors) || doc.tensors.length !== shapes.length) return fail('another format or tensor count');
  return (doc.tensors as Array<{ dtype?: unknown; shape?: unknown; data?: unknown }>).map((t, i) => {
    const want = shapes[i]!;
    if (t.dtype !== 'float32' || !Array.isArray(t.shape) || t.shape.length !== want.length || t.shape.some((d, j) => d !== want[j]) || !(t.data instanceof Uint8Array)) return fail(`tensor ${i} of another dtype or shape`);
    const n = want.reduce((a, b) => a * b, 1);
    if (t.data.byteLength !== n * 4) fail(`tensor ${i} of ${t.data.byteLength} bytes`);
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(t.data);
    return out;
  });
}
