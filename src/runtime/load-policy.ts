/**
 * `loadPolicy`: reads a policy bundle (policy.json + model.json + weights) from a URL (fetch, in a
 * browser or Node) or from a folder path (Node only; node:fs is imported lazily on that path so a
 * browser bundle carries no Node built-in).
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { Policy } from './policy.js';
import { checkPreprocessChain, parsePolicyFile, shapeSize, type PolicyFile } from './policy-file.js';

export interface LoadPolicyOptions {
  /** Game id the caller plays; a bundle trained on another game is rejected. */
  game?: string;
  /** Shape of the frames the caller will pass; a bundle expecting another frame shape is rejected. */
  frameShape?: number[];
  /** fetch implementation for URLs (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
}

type Reader = { text(name: string): Promise<string>; bytes(name: string): Promise<Uint8Array> };

function isUrl(source: string): boolean {
  return /^(https?:|blob:|data:)/.test(source) || typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

function join(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

function missing(source: string, name: string, cause: unknown): never {
  throw new CheckpointError(formatError('loadPolicy', `${name} in the policy bundle`, `${describe(source)} without a readable ${name} (${(cause as Error)?.message ?? String(cause)})`, 'pass the folder or URL written by npcforge export, with all its files'), { cause });
}

function urlReader(base: string, fetchImpl: typeof globalThis.fetch): Reader {
  const get = async (name: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchImpl(join(base, name));
    } catch (err) {
      missing(base, name, err);
    }
    if (!res.ok) missing(base, name, new Error(`HTTP ${res.status}`));
    return res;
  };
  return {
    text: async (name) => (await get(name)).text(),
    bytes: async (name) => new Uint8Array(await (await get(name)).arrayBuffer()),
  };
}

async function fileReader(dir: string): Promise<Reader> {
  // A variable specifier keeps bundlers from resolving (and shipping) node:fs for the browser.
  const specifier = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ specifier)) as typeof import('node:fs/promises');
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await fs.readFile(join(dir, name));
    } catch (err) {
      missing(dir, name, err);
    }
  };
  return {
    text: async (name) => (await read(name)).toString('utf8'),
    bytes: async (name) => new Uint8Array(await read(name)),
  };
}

/** Loads a policy bundle written by `npcforge export` from a URL or a folder path. The caller owns (disposes) the policy. */
export async function loadPolicy(source: string, options: LoadPolicyOptions = {}): Promise<Policy> {
  if (typeof source !== 'string' || source.length === 0) {
    throw new CheckpointError(formatError('loadPolicy', 'a URL or folder path of a policy bundle', describe(source), "pass e.g. '/npc/' or 'runs/<id>/policy'"));
  }
  // The embedding program may have registered a backend that still initialises (wasm).
  await tf.ready();
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const reader = isUrl(source) ? urlReader(source, fetchImpl) : await fileReader(source);
  const file = parsePolicyFile(await reader.text('policy.json'));
  checkPreprocessChain(file);
  if (options.game !== undefined && options.game !== file.game.id) {
    throw new SpaceMismatchError(formatError('loadPolicy', `a policy for game ${describe(options.game)}`, `a policy for ${describe(file.game.id)}`, 'load the bundle exported from a run of this game'));
  }
  if (options.frameShape !== undefined && options.frameShape.join('x') !== file.frame.shape.join('x') && options.frameShape.join('x') !== file.observation.shape.join('x')) {
    throw new SpaceMismatchError(formatError('loadPolicy', `frames of shape [${file.frame.shape}] (or observations [${file.observation.shape}])`, `[${options.frameShape}]`, 'feed the policy the frames of the game options it was trained with (policy.json game.options)'));
  }
  const model = await loadModel(reader, file, source);
  checkModel(model, file);
  return new Policy(file, model);
}

async function loadModel(reader: Reader, file: PolicyFile, source: string): Promise<tf.LayersModel> {
  let json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(await reader.text(file.model.topology));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(formatError('loadPolicy', `a JSON ${file.model.topology}`, `unparsable text (${(err as Error).message})`, 'export the policy again'));
  }
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new CheckpointError(formatError('loadPolicy', `a tfjs layers model in ${file.model.topology}`, describe(Object.keys(json ?? {})), 'export the policy again'));
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) parts.push(await reader.bytes(p));
  }
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const expected = specs.reduce((a, s) => a + shapeSize(s.shape) * 4, 0);
  if (total !== expected) {
    throw new CheckpointError(formatError('loadPolicy', `${expected} bytes of float32 weights`, `${total} bytes`, `the weights of ${describe(source)} are truncated or from another model; export the policy again`));
  }
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    weightData.set(p, off);
    off += p.byteLength;
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'], weightSpecs: specs, weightData: weightData.buffer }));
}

function checkModel(model: tf.LayersModel, file: PolicyFile): void {
  const inShape = (model.inputs[0]!.shape ?? []).slice(1);
  const outShape = model.outputs[0]!.shape ?? [];
  if (inShape.join('x') !== file.observation.shape.join('x')) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `a model reading observations [${file.observation.shape}] (policy.json)`, `a model input [${inShape}]`, 'model.json and policy.json come from different exports; export the policy again'));
  }
  if (outShape[outShape.length - 1] !== file.actions.length) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `a model with ${file.actions.length} outputs (one per action)`, `output shape [${outShape}]`, 'export the policy again'));
  }
  const stateInputs = model.inputs.length - 1;
  const declared = file.recurrentState?.shapes.length ?? 0;
  if (stateInputs !== declared) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `${declared} recurrent state inputs (policy.json)`, `${stateInputs}`, 'export the policy again'));
  }
}
