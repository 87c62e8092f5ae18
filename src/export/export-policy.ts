/**
 * `npcforge export`: turns a run's checkpoint into a policy bundle for `src/runtime`:
 * policy.json (what to feed the network and how to read it) + model.json + weights.bin (stock
 * tfjs layers files, loadable by `tf.loadLayersModel`), and/or policy.onnx (`onnx-export.ts`) for
 * ONNX runtimes (onnxruntime, Unity Sentis, Godot).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';
import type { Env } from '../envs/env.js';
import { make } from '../envs/registry.js';
import { Box, Discrete, MultiDiscrete } from '../envs/spaces.js';
import { actionNamesByPart } from '../envs/actions.js';
import { dictLayoutOf } from '../envs/dict-obs.js';
import { FrameStack } from '../envs/wrappers/frame-stack.js';
import { GrayScale } from '../envs/wrappers/gray-scale.js';
import { Resize } from '../envs/wrappers/resize.js';
import type { Agent } from '../agents/agent.js';
import { DqnAgent } from '../agents/dqn/dqn-agent.js';
import { DrqnAgent } from '../agents/dqn/drqn-agent.js';
import type { LstmCore } from '../networks/lstm.js';
import type { ActorCritic } from '../agents/pg/actor-critic.js';
import { PolicyGradientAgent } from '../agents/pg/learner.js';
import { SacAgent } from '../agents/sac/sac-agent.js';
import { NORMALIZE_CLIP, NORMALIZE_EPS } from '../agents/pg/normalize.js';
import { layersModelFiles } from '../networks/weights.js';
import { loadRunAgent } from '../train/runner.js';
import { writeFileAtomic, type RunFile } from '../train/run-folder.js';
import { writePolicyOnnx } from './onnx-export.js';
import { MAX_DECISION_PERIOD, POLICY_FORMAT, POLICY_VERSION, isDecisionPeriod, type ObsDtype, type PolicyActionSpace, type PolicyFile, type PreprocessStep } from '../runtime/policy-file.js';

export interface ExportOptions {
  /** Run folder written by `npcforge train`. */
  runDir: string;
  /** Checkpoint step (default: the latest). */
  checkpoint?: number;
  /** Output folder (default `<runDir>/policy`). */
  outDir?: string;
  /** Game frames per decision written to policy.json (default 1: a decision every frame, field omitted). */
  decisionPeriod?: number;
  /** What to write: the tfjs bundle (default), policy.onnx alone, or both. */
  format?: ExportFormat;
}

/** Files `npcforge export` writes: `tfjs` = policy.json + model.json + weights.bin, `onnx` = policy.onnx (self-describing), `all` = both. */
export type ExportFormat = 'tfjs' | 'onnx' | 'all';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'onnx', 'all'];

/** Checks an export format name; returns it. */
export function checkExportFormat(f: unknown, component = 'export'): ExportFormat {
  if (!EXPORT_FORMATS.includes(f as ExportFormat)) throw new InvalidConfigError(formatError(component, `a format, one of ${EXPORT_FORMATS.join(', ')}`, describe(f), 'pass e.g. --format all (the tfjs bundle and policy.onnx)'));
  return f as ExportFormat;
}

/** Checks a decision period (an integer from 1 to MAX_DECISION_PERIOD frames); returns it. */
export function checkDecisionPeriod(k: unknown, component = 'export'): number {
  if (!isDecisionPeriod(k)) throw new InvalidConfigError(formatError(component, `a decision period, an integer from 1 to ${MAX_DECISION_PERIOD} frames`, describe(k), 'pass e.g. --decision-period 4 (the NPC acts every 4th frame, repeating its action in between)'));
  return k;
}

export interface ExportResult {
  outDir: string;
  policy: PolicyFile;
  /** Bytes of weights.bin (0 when the tfjs bundle was not written). */
  weightBytes: number;
  /** Bytes of policy.onnx, or null when it was not written. */
  onnxBytes: number | null;
}

/** The acting network of an agent and how to read it; throws for agents that cannot be exported. */
export interface PolicyNetwork {
  model: tf.LayersModel;
  output: PolicyFile['output'];
  inputScale: number;
  recurrentState: { shapes: number[][] } | null;
  /** Observation normalisation the network was trained behind (PG `normObs`), or null. */
  inputNorm: PolicyFile['inputNorm'];
  /** Feed-forward actor-critics: the critic (observation -> [value]), written as policy.json `valueModel`; else absent. */
  valueModel?: tf.LayersModel;
}

/** The network `act` runs for an agent of a known kind. */
export function policyNetwork(agent: Agent): PolicyNetwork {
  if (agent instanceof DqnAgent) return { model: agent.online, output: 'q', inputScale: agent.obsScale, recurrentState: null, inputNorm: null };
  if (agent instanceof DrqnAgent) {
    const net = agent.online;
    return { model: recurrentModel(agent.obsShape, net.encoder, net.lstm, net.head), output: 'q', inputScale: agent.obsScale, recurrentState: { shapes: [[net.lstm.units], [net.lstm.units]] }, inputNorm: null };
  }
  if (agent instanceof PolicyGradientAgent) {
    const net = agent.net;
    const stats = agent.obsNormStats;
    // For Box the policy head outputs the Gaussian mean: the greedy action before clipping.
    return {
      model: actorModel(net),
      output: agent.action.kind === 'box' ? 'mean' : 'logits',
      inputScale: net.spec.obsScale,
      recurrentState: net.lstm ? { shapes: [[net.lstm.units], [net.lstm.units]] } : null,
      inputNorm: stats ? { mean: Array.from(stats.mean), var: Array.from(stats.var), epsilon: NORMALIZE_EPS, clip: NORMALIZE_CLIP } : null,
      // A recurrent critic would need the LSTM state too: only feed-forward critics travel.
      ...(net.lstm ? {} : { valueModel: criticModel(net) }),
    };
  }
  // The SAC actor outputs [mean | raw log-std]; the runtime reads the mean and squashes it (greedy = tanh(mean) scaled).
  if (agent instanceof SacAgent) return { model: agent.actor, output: 'squashed-mean', inputScale: agent.obsScale, recurrentState: null, inputNorm: null };
  throw new InvalidConfigError(formatError('export', 'an agent of an exportable kind (dqn, reinforce, a2c, ppo, sac)', `kind ${agent.kind}`, 'export a run trained with a supported agent'));
}

/**
 * The acting part of an actor-critic as one stock LayersModel: encoder -> (LSTM) -> policy head,
 * outputting logits (see `recurrentModel`). The layers are shared with the agent, so the agent
 * must outlive the model.
 */
export function actorModel(net: ActorCritic): tf.LayersModel {
  return recurrentModel(net.spec.obsShape, net.encoder, net.lstm, net.policyHead);
}

/**
 * The critic of a feed-forward actor-critic as one stock LayersModel: (critic) encoder -> value
 * head, observation -> [value]. Layers are shared with the agent, which must outlive the model.
 */
export function criticModel(net: ActorCritic): tf.LayersModel {
  const obs = tf.input({ shape: [...net.spec.obsShape], dtype: 'float32' });
  const features = (net.criticEncoder ?? net.encoder).apply(obs) as tf.SymbolicTensor;
  return tf.model({ inputs: obs, outputs: net.valueHead.apply(features) as tf.SymbolicTensor });
}

/**
 * encoder -> (LSTM) -> head as one stock LayersModel. A recurrent net becomes inputs [obs, h, c]
 * -> outputs [head output, h', c'] with a stock Keras LSTM layer (sigmoid gates) holding the
 * cell's weights converted from its gate-major layout; the episode-start masking of the training
 * cell is the runtime's `reset()`. The encoder and head layers are shared with the caller's
 * network, which must outlive the model.
 */
export function recurrentModel(obsShape: readonly number[], encoder: tf.LayersModel, cell: LstmCore | null, head: tf.LayersModel): tf.LayersModel {
  const obs = tf.input({ shape: [...obsShape], dtype: 'float32' });
  const features = encoder.apply(obs) as tf.SymbolicTensor;
  if (!cell) return tf.model({ inputs: obs, outputs: head.apply(features) as tf.SymbolicTensor });
  const H = cell.units;
  const I = cell.inputSize;
  const h = tf.input({ shape: [H], dtype: 'float32' });
  const c = tf.input({ shape: [H], dtype: 'float32' });
  const seq = tf.layers.reshape({ targetShape: [1, I] }).apply(features) as tf.SymbolicTensor;
  const lstm = tf.layers.lstm({ units: H, returnState: true, activation: 'tanh', recurrentActivation: 'sigmoid', unitForgetBias: false });
  const [out, h2, c2] = lstm.apply(seq, { initialState: [h, c] }) as tf.SymbolicTensor[];
  const keras = tf.tidy(() => [
    tf.reshape(tf.transpose(cell.kernel, [1, 0, 2]), [I, 4 * H]),
    tf.reshape(tf.transpose(cell.recurrentKernel, [1, 0, 2]), [H, 4 * H]),
    tf.reshape(cell.bias, [4 * H]),
  ]);
  lstm.setWeights(keras);
  tf.dispose(keras);
  return tf.model({ inputs: [obs, h, c], outputs: [head.apply(out!) as tf.SymbolicTensor, h2!, c2!] });
}

/**
 * Walks an env's wrapper chain from the outside in and lists the preprocessing wrappers
 * innermost first, with the frame shape below the first of them. Flicker and other training-only
 * perturbations are skipped on purpose: a deployed NPC sees clean frames.
 */
export function preprocessChain(env: Env<unknown, unknown>): { steps: PreprocessStep[]; frame: { shape: number[]; dtype: ObsDtype } } {
  const steps: PreprocessStep[] = [];
  let frameSpace = env.observationSpace;
  let e: unknown = env;
  while (e && typeof e === 'object' && 'env' in e) {
    const w = e as { env: Env<unknown, unknown> };
    if (w instanceof GrayScale) steps.unshift({ kind: 'grayscale' });
    else if (w instanceof Resize) steps.unshift({ kind: 'resize', height: w.height, width: w.width });
    else if (w instanceof FrameStack) steps.unshift({ kind: 'frameStack', k: w.k });
    if (w instanceof GrayScale || w instanceof Resize || w instanceof FrameStack) frameSpace = w.env.observationSpace;
    e = w.env;
  }
  if (!(frameSpace instanceof Box)) throw new InvalidConfigError(formatError('export', 'a Box observation space', frameSpace.type, 'export runs of games with array observations'));
  return { steps, frame: { shape: [...frameSpace.shape], dtype: frameSpace.dtype } };
}

/** Mean return of the latest evaluation at or before `step`, from metrics.jsonl (null if none). */
export function evalReturnAt(runDir: string, step: number): number | null {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return null;
  let best: number | null = null;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as { step?: number; eval_return?: number | null };
      if (typeof m.step === 'number' && m.step <= step && typeof m.eval_return === 'number') best = m.eval_return;
    } catch {
      // A torn last line (a killed run) carries no finished evaluation.
    }
  }
  return best;
}

/** What the exporter adds to policy.json beyond the run: the decision period (1 = every frame, not written). */
export interface DescribeOptions {
  decisionPeriod?: number;
}

/** Builds policy.json for an agent loaded from a run. */
export function describePolicy(run: RunFile, runDir: string, step: number, net: PolicyNetwork, agent: Agent, options: DescribeOptions = {}): PolicyFile {
  const period = checkDecisionPeriod(options.decisionPeriod ?? 1);
  const env = make(run.game, run.run.envOptions);
  try {
    const obs = env.observationSpace;
    if (!(obs instanceof Box)) throw new InvalidConfigError(formatError('export', 'a Box observation space', obs.type, 'export runs of games with array observations'));
    // The SAC actor reads flat observations: a bundle of it declares the env's shape only for vectors.
    if (net.output === 'squashed-mean' && obs.shape.length !== 1) throw new InvalidConfigError(formatError('export', 'a SAC run of a game with vector observations', `${run.game} with observations [${obs.shape}]`, 'export SAC runs of vector-observation games'));
    const { steps, frame } = preprocessChain(env);
    const { action, actions } = describeActions(env, run.game, net);
    // Plain Discrete bundles stay version 1 so runtimes from before MultiDiscrete/Box keep reading them.
    const layout = dictLayoutOf(obs);
    const needsV2 = action.type !== 'Discrete' || net.inputNorm !== null || layout !== null || period > 1;
    return {
      format: POLICY_FORMAT,
      version: needsV2 ? POLICY_VERSION : 1,
      game: { id: run.game, options: run.run.envOptions },
      agent: agent.kind,
      output: net.output,
      frame,
      preprocess: steps,
      observation: { shape: [...obs.shape], dtype: obs.dtype, low: Math.min(...obs.low), high: Math.max(...obs.high), ...(layout ? { dict: layout.entries.map((e) => ({ ...e, shape: [...e.shape] })) } : {}) },
      inputScale: net.inputScale,
      actions,
      ...(needsV2 ? { action, inputNorm: net.inputNorm } : {}),
      ...(period > 1 ? { decisionPeriod: period } : {}),
      recurrentState: net.recurrentState,
      model: { topology: 'model.json' },
      ...(net.valueModel ? { valueModel: { topology: VALUE_TOPOLOGY } } : {}),
      training: { run: basename(resolve(runDir)), checkpoint: step, seed: run.run.seed, preset: run.preset, agentConfig: run.agentConfig, backend: run.backend, versions: run.versions, trainedAt: run.createdAt },
      evalReturn: evalReturnAt(runDir, step),
      createdAt: new Date().toISOString(),
    };
  } finally {
    env.close();
  }
}

/** The bundle's action description and flat names for an env's action space; throws for spaces (or heads) a bundle cannot hold. */
function describeActions(env: Env<unknown, unknown>, game: string, net: PolicyNetwork): { action: PolicyActionSpace; actions: string[] } {
  const space = env.actionSpace;
  const names = env.spec.actionNames ?? [];
  const boxHead = net.output === 'mean' || net.output === 'squashed-mean';
  if (space instanceof Discrete && !boxHead) {
    return { action: { type: 'Discrete', n: space.n }, actions: Array.from({ length: space.n }, (_, i) => names[i] ?? String(i)) };
  }
  if (space instanceof MultiDiscrete && net.output === 'logits') {
    const perPart = actionNamesByPart(space.nvec, names);
    const flat = perPart.flat();
    return { action: { type: 'MultiDiscrete', nvec: [...space.nvec], names: perPart }, actions: flat };
  }
  if (space instanceof Box && boxHead && space.shape.length === 1) {
    const low = Array.from(space.low as ArrayLike<number>);
    const high = Array.from(space.high as ArrayLike<number>);
    // JSON has no Infinity, and the runtime clips to the bounds it reads: unbounded Box actions need another format.
    if (![...low, ...high].every(Number.isFinite)) throw new InvalidConfigError(formatError('export', 'a Box action space with finite bounds', `${game} with unbounded Box actions`, 'give the game finite action bounds'));
    return { action: { type: 'Box', shape: [...space.shape], low, high }, actions: [] };
  }
  throw new InvalidConfigError(formatError('export', 'a Discrete, MultiDiscrete or float vector Box action space with the matching network head', `${game} with ${space.type} actions and a ${net.output} head`, 'export a run of a supported agent and game'));
}

/** File names of the critic in a bundle (policy.json `valueModel`). */
export const VALUE_TOPOLOGY = 'value.json';
const VALUE_WEIGHTS = 'value.weights.bin';

/**
 * Writes policy.json + model.json + weights.bin to `outDir` (and value.json + value.weights.bin
 * with `valueModel`, when policy.json names it); returns the weight bytes of the policy network.
 */
export async function writePolicyBundle(outDir: string, policy: PolicyFile, model: tf.LayersModel, valueModel?: tf.LayersModel): Promise<number> {
  const files = await layersModelFiles(model, 'weights.bin');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'weights.bin'), files.weights);
  writeFileSync(join(outDir, policy.model.topology), files.modelJson);
  if (valueModel && policy.valueModel) {
    const critic = await layersModelFiles(valueModel, VALUE_WEIGHTS);
    writeFileSync(join(outDir, VALUE_WEIGHTS), critic.weights);
    writeFileSync(join(outDir, policy.valueModel.topology), critic.modelJson);
  } else if (policy.valueModel) {
    // Named but not given: a bundle must never point at a file it does not hold.
    const { valueModel: _, ...rest } = policy;
    policy = rest;
  }
  // policy.json last: a folder with it is complete.
  writeFileAtomic(join(outDir, 'policy.json'), JSON.stringify(policy, null, 2) + '\n');
  return files.weights.byteLength;
}

/** Writes a policy bundle for a run's checkpoint. */
export async function exportPolicy(options: ExportOptions): Promise<ExportResult> {
  // Before the (slow) agent load: a bad flag fails at once.
  if (options.decisionPeriod !== undefined) checkDecisionPeriod(options.decisionPeriod);
  const format = checkExportFormat(options.format ?? 'tfjs');
  const { agent, run, step } = await loadRunAgent(options.runDir, options.checkpoint);
  try {
    const net = policyNetwork(agent);
    const policy = describePolicy(run, options.runDir, step, net, agent, { decisionPeriod: options.decisionPeriod });
    const outDir = options.outDir ?? join(options.runDir, 'policy');
    mkdirSync(outDir, { recursive: true });
    // policy.onnx before the tfjs files: policy.json, written last, marks a complete folder.
    const onnxBytes = format === 'tfjs' ? null : await writePolicyOnnx(outDir, policy, net.model);
    const weightBytes = format === 'onnx' ? 0 : await writePolicyBundle(outDir, policy, net.model, net.valueModel);
    return { outDir, policy, weightBytes, onnxBytes };
  } finally {
    agent.dispose();
  }
}

export interface BasicPolicyOptions {
  game: string;
  gameOptions?: Record<string, unknown>;
  agent?: string;
  output?: 'q' | 'logits';
  /** Raw frame shape; defaults to the observation shape (no preprocessing). */
  frame?: { shape: number[]; dtype: ObsDtype };
  preprocess?: PreprocessStep[];
  observation: { shape: number[]; dtype: ObsDtype; low?: number; high?: number };
  inputScale?: number;
  actions: string[];
  recurrentState?: { shapes: number[][] } | null;
}

/** A policy.json for a network built outside a run (benchmarks, tests, hand-made bundles). */
export function basicPolicyFile(o: BasicPolicyOptions): PolicyFile {
  return {
    format: POLICY_FORMAT,
    version: POLICY_VERSION,
    game: { id: o.game, options: o.gameOptions ?? {} },
    agent: o.agent ?? 'dqn',
    output: o.output ?? 'q',
    frame: o.frame ?? { shape: o.observation.shape, dtype: o.observation.dtype },
    preprocess: o.preprocess ?? [],
    observation: { shape: o.observation.shape, dtype: o.observation.dtype, low: o.observation.low ?? 0, high: o.observation.high ?? 1 },
    inputScale: o.inputScale ?? 1,
    actions: o.actions,
    recurrentState: o.recurrentState ?? null,
    model: { topology: 'model.json' },
    training: {},
    evalReturn: null,
    createdAt: new Date().toISOString(),
  };
}
