/**
 * `loadPolicy`: reads a policy bundle (policy.json + model.json + weights) from a URL (fetch, in a
 * browser or Node) or from a folder path (Node only; node:fs is imported lazily on that path so a
 * browser bundle carries no Node built-in).
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, SpaceMismatchError, formatError, describe } from '../errors.js';
import { Policy } from './policy.js';
import { checkPreprocessChain, outputWidth, parsePolicyFile, shapeSize, type PolicyFile } from './policy-file.js';

export interface LoadPolicyOptions {
  /** Game id the caller plays; a bundle trained on another game is rejected. */
  game?: string;
  /** Shape of the frames the caller will pass; a bundle expecting another frame shape is rejected. */
  frameShape?: number[];
  /** fetch implementation for URLs (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
}

/** Largest policy.json, in bytes. */
export const MAX_POLICY_JSON_BYTES = 1 << 20;
/** Largest model.json (the layers topology and weights manifest), in bytes. */
export const MAX_MODEL_JSON_BYTES = 16 << 20;
/** Largest total of weights a bundle may declare, in bytes. */
export const MAX_WEIGHT_BYTES = 512 << 20;

/**
 * Reads the files of one bundle. `size` is the byte size when it can be known before reading
 * (files; null for URLs); `read` fails with CheckpointError when the file holds more than `max`
 * bytes, without reading (or keeping) more than that.
 */
export interface BundleReader {
  size(name: string): Promise<number | null>;
  read(name: string, max: number): Promise<Uint8Array>;
}
type Reader = BundleReader;

function isUrl(source: string): boolean {
  return /^(https?:|blob:|data:)/.test(source) || typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

function bundleError(expected: string, received: string, fix = 'export the policy again with npcforge export', component = 'loadPolicy'): never {
  throw new CheckpointError(formatError(component, expected, received, fix));
}

function missing(source: string, name: string, cause: unknown, component: string): never {
  const code = (cause as { code?: unknown })?.code;
  const why = typeof code === 'string' ? code : ((cause as Error)?.message ?? String(cause));
  const what = component === 'loadPolicy' ? 'the policy bundle' : 'the ladder folder';
  throw new CheckpointError(formatError(component, `${name} in ${what}`, `${describe(source)} without a readable ${name} (${why})`, 'pass the folder or URL written by npcforge export, with all its files'), { cause });
}

function tooLarge(name: string, max: number, size: number | string, component: string): never {
  bundleError(`${name} of at most ${max} bytes`, `${size} bytes`, undefined, component);
}

/**
 * A path named inside the bundle (model.topology, weightsManifest paths): relative, forward
 * slashes, no `.`/`..` segments, nothing a URL or a file system would read as absolute.
 */
function checkBundlePath(name: unknown, field: string): string {
  const ok = typeof name === 'string' && name.length > 0 && name.length <= 256 && !/[\\\0:?#]/.test(name) && !name.startsWith('/') && name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
  if (!ok) bundleError(`${field} to name a file inside the bundle folder (a relative path without ..)`, typeof name === 'string' ? `a path outside it or malformed (${name.length} characters)` : describe(name));
  return name;
}

function urlReader(source: string, fetchImpl: typeof globalThis.fetch, component: string): Reader {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let base: URL;
  try {
    base = new URL(source.endsWith('/') ? source : `${source}/`, page);
  } catch {
    bundleError('a URL of a policy bundle folder', describe(source), "pass e.g. '/npc/' or 'https://host/npc/'", component);
  }
  const resolve = (name: string): URL => {
    const u = new URL(name, base);
    // Same origin and under the bundle's path: a bundle cannot make the runtime fetch elsewhere.
    if (u.origin !== base.origin || u.protocol !== base.protocol || !u.pathname.startsWith(base.pathname)) bundleError(`${name} under ${base.href}`, 'a URL outside the bundle', undefined, component);
    return u;
  };
  return {
    size: async () => null,
    read: async (name, max) => {
      let res: Response;
      try {
        res = await fetchImpl(resolve(name).href);
      } catch (err) {
        if (err instanceof CheckpointError) throw err;
        missing(source, name, err, component);
      }
      if (!res.ok) missing(source, name, new Error(`HTTP ${res.status}`), component);
      const declared = res.headers?.get?.('content-length');
      if (declared !== null && declared !== undefined && Number(declared) > max) tooLarge(name, max, declared, component);
      const body = res.body as ReadableStream<Uint8Array> | null;
      if (!body || typeof body.getReader !== 'function') {
        const all = new Uint8Array(await res.arrayBuffer());
        if (all.length > max) tooLarge(name, max, all.length, component);
        return all;
      }
      // Count while streaming: a server that sends more than it declared (or declares nothing) is cut off at the limit.
      const parts: Uint8Array[] = [];
      let total = 0;
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > max) {
          await reader.cancel().catch(() => undefined);
          tooLarge(name, max, `more than ${max}`, component);
        }
        parts.push(value);
      }
      const out = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    },
  };
}

/** What `fileReader` uses of `node:fs/promises` and `node:path`: declared here so this module also type-checks without Node's types (the browser bundles). */
interface FileStats {
  size: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}
interface NodeFs {
  constants: { O_RDONLY: number; O_NONBLOCK?: number };
  realpath(p: string): Promise<string>;
  stat(p: string): Promise<FileStats>;
  open(p: string, flags: number): Promise<{ stat(): Promise<FileStats>; read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>; close(): Promise<void> }>;
}
interface NodePath {
  sep: string;
  resolve(...parts: string[]): string;
}

async function fileReader(dir: string, component: string, manifest: string): Promise<Reader> {
  // Variable specifiers keep bundlers from resolving (and shipping) Node built-ins for the browser.
  const fsSpecifier = 'node:fs/promises';
  const pathSpecifier = 'node:path';
  const fs = (await import(/* @vite-ignore */ fsSpecifier)) as NodeFs;
  const path = (await import(/* @vite-ignore */ pathSpecifier)) as NodePath;
  const { constants } = fs;
  let root: string;
  try {
    root = await fs.realpath(dir);
  } catch (err) {
    missing(dir, manifest, err, component);
  }
  const inside = (p: string): boolean => p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  const kind = (st: FileStats): string => (st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file');
  /** The real path of `name`, checked to be a regular file inside the bundle folder (symlinks resolved). */
  const locate = async (name: string): Promise<{ real: string; size: number }> => {
    let real: string;
    try {
      real = await fs.realpath(path.resolve(root, name));
    } catch (err) {
      missing(dir, name, err, component);
    }
    if (!inside(real)) bundleError(`${name} inside the bundle folder`, 'a link to a file outside it', undefined, component);
    const st = await fs.stat(real);
    if (!st.isFile()) bundleError(`${name} to be a regular file`, kind(st), undefined, component);
    return { real, size: st.size };
  };
  return {
    size: async (name) => (await locate(name)).size,
    read: async (name, max) => {
      const { real, size } = await locate(name);
      if (size > max) tooLarge(name, max, size, component);
      // O_NONBLOCK: a file swapped for a FIFO after the stat must not block the open.
      const fh = await fs.open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      try {
        const st = await fh.stat();
        if (!st.isFile()) bundleError(`${name} to be a regular file`, kind(st), undefined, component);
        if (st.size > max) tooLarge(name, max, st.size, component);
        const out = new Uint8Array(st.size);
        let off = 0;
        while (off < out.length) {
          const { bytesRead } = await fh.read(out, off, out.length - off, off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        return off === out.length ? out : out.subarray(0, off);
      } finally {
        await fh.close();
      }
    },
  };
}

/**
 * A reader of the files of one folder (a bundle, a ladder): fetch for URLs (and always in a page),
 * the file system for paths. Every name is checked to stay inside the folder. `component` names the
 * caller in errors, `manifest` the file a missing folder is reported as missing.
 */
export async function openBundleReader(source: string, fetchImpl: typeof globalThis.fetch, component = 'loadPolicy', manifest = 'policy.json'): Promise<BundleReader> {
  return isUrl(source) ? urlReader(source, fetchImpl, component) : fileReader(source, component, manifest);
}

/** Parses JSON without quoting the text in errors (the file could be anything). */
function parseJson(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    bundleError(`a JSON ${name}`, `unparsable text (${bytes.length} bytes)`);
  }
}

/** Loads a policy bundle written by `npcforge export` from a URL or a folder path. The caller owns (disposes) the policy. */
export async function loadPolicy(source: string, options: LoadPolicyOptions = {}): Promise<Policy> {
  if (typeof source !== 'string' || source.length === 0) {
    throw new CheckpointError(formatError('loadPolicy', 'a URL or folder path of a policy bundle', describe(source), "pass e.g. '/npc/' or 'runs/<id>/policy'"));
  }
  // The embedding program may have registered a backend that still initialises (wasm).
  await tf.ready();
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const reader = await openBundleReader(source, fetchImpl);
  const file = parsePolicyFile(new TextDecoder().decode(await reader.read('policy.json', MAX_POLICY_JSON_BYTES)));
  checkPreprocessChain(file);
  if (options.game !== undefined && options.game !== file.game.id) {
    throw new SpaceMismatchError(formatError('loadPolicy', `a policy for game ${describe(options.game)}`, `a policy for ${describe(file.game.id)}`, 'load the bundle exported from a run of this game'));
  }
  if (options.frameShape !== undefined && options.frameShape.join('x') !== file.frame.shape.join('x') && options.frameShape.join('x') !== file.observation.shape.join('x')) {
    throw new SpaceMismatchError(formatError('loadPolicy', `frames of shape [${file.frame.shape}] (or observations [${file.observation.shape}])`, `[${options.frameShape}]`, 'feed the policy the frames of the game options it was trained with (policy.json game.options)'));
  }
  const model = await loadModel(reader, file.model.topology, 'policy.json model.topology', source);
  checkModel(model, file);
  return new Policy(file, model);
}

/**
 * The critic of an actor-critic bundle (policy.json `valueModel`: observation -> [value]), loaded
 * with the same checks as the policy's network, or null when the bundle has none. `file` is the
 * bundle's parsed policy.json (`policy.file`). The caller owns (disposes) the model.
 */
export async function loadValueModel(source: string, file: PolicyFile, options: Pick<LoadPolicyOptions, 'fetch'> = {}): Promise<tf.LayersModel | null> {
  if (!file.valueModel) return null;
  const reader = await openBundleReader(source, options.fetch ?? globalThis.fetch);
  const model = await loadModel(reader, file.valueModel.topology, 'policy.json valueModel.topology', source);
  const inShape = (model.inputs[0]!.shape ?? []).slice(1);
  const outShape = model.outputs[0]!.shape ?? [];
  if (model.inputs.length !== 1 || inShape.join('x') !== file.observation.shape.join('x') || outShape.length !== 2 || outShape[1] !== 1) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `a value model reading observations [${file.observation.shape}] into one value`, `inputs [${inShape}] (${model.inputs.length} in all), output [${outShape}]`, 'export the policy again'));
  }
  return model;
}

const WEIGHT_DTYPE_BYTES: Record<string, number> = { float32: 4 };

async function loadModel(reader: Reader, topology: string, field: string, source: string): Promise<tf.LayersModel> {
  const topologyName = checkBundlePath(topology, field);
  const json = parseJson(await reader.read(topologyName, MAX_MODEL_JSON_BYTES), topologyName) as { modelTopology?: unknown; weightsManifest?: unknown } | null;
  if (!json || typeof json !== 'object' || !json.modelTopology || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    bundleError(`a tfjs layers model in ${topologyName}`, json && typeof json === 'object' ? `an object of ${Object.keys(json).length} keys without modelTopology or weightsManifest` : `a JSON ${json === null ? 'null' : typeof json}`);
  }
  // The manifest says how many bytes the weights hold; check it all before reading any weights.
  const specs: tf.io.WeightsManifestEntry[] = [];
  const paths: string[] = [];
  let expected = 0;
  for (const group of json.weightsManifest as unknown[]) {
    const g = group as { paths?: unknown; weights?: unknown };
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) bundleError(`weightsManifest groups with paths and weights in ${topologyName}`, describe(g));
    for (const p of g.paths) paths.push(checkBundlePath(p, `${topologyName} weightsManifest paths`));
    for (const w of g.weights as tf.io.WeightsManifestEntry[]) {
      const k = specs.length;
      const dtypeBytes = WEIGHT_DTYPE_BYTES[w?.dtype as string];
      if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0) || !dtypeBytes || w.quantization !== undefined) {
        bundleError(`weight ${k} of ${topologyName} with a name, a shape and dtype float32 (not quantised)`, `shape ${describe(w?.shape)}, dtype ${describe(w?.dtype)}`);
      }
      expected += shapeSize(w.shape) * dtypeBytes;
      if (expected > MAX_WEIGHT_BYTES) bundleError(`weights of at most ${MAX_WEIGHT_BYTES} bytes in all`, `more by weight ${k} (shape [${w.shape}])`);
      specs.push(w);
    }
  }
  const sizes = await Promise.all(paths.map((p) => reader.size(p)));
  if (sizes.every((n) => n !== null)) {
    const total = (sizes as number[]).reduce((a, b) => a + b, 0);
    if (total !== expected) weightsMismatch(expected, total, paths, source);
  }
  const weightData = new Uint8Array(expected);
  let off = 0;
  for (const p of paths) {
    const part = await reader.read(p, expected - off);
    weightData.set(part, off);
    off += part.length;
  }
  if (off !== expected) weightsMismatch(expected, off, paths, source);
  checkFinite(weightData, specs, paths);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'], weightSpecs: specs, weightData: weightData.buffer }));
  } catch (err) {
    // tfjs quotes layer names and classes from the file; name only the kind of failure.
    bundleError(`a layers model tfjs can build from ${topologyName}`, `a topology it rejects (${(err as Error)?.name ?? 'error'})`);
  }
}

function weightsMismatch(expected: number, received: number, paths: string[], source: string): never {
  bundleError(`${expected} bytes of float32 weights`, `${received} bytes in ${paths.join(', ')}`, `the weights of ${describe(source)} are truncated or from another model; export the policy again`);
}

/** NaN or infinite weights would make every action a NaN comparison: refuse them at load. */
function checkFinite(weightData: Uint8Array, specs: tf.io.WeightsManifestEntry[], paths: string[]): void {
  const values = new Float32Array(weightData.buffer, weightData.byteOffset, weightData.byteLength >> 2);
  let start = 0;
  specs.forEach((s, k) => {
    const n = shapeSize(s.shape);
    for (let i = start; i < start + n; i++) {
      if (!Number.isFinite(values[i]!)) bundleError(`finite weights in ${paths.join(', ')}`, `${values[i]} in weight ${k} (shape [${s.shape}]) at element ${i - start}`);
    }
    start += n;
  });
}

function checkModel(model: tf.LayersModel, file: PolicyFile): void {
  const inShape = (model.inputs[0]!.shape ?? []).slice(1);
  const outShape = model.outputs[0]!.shape ?? [];
  if (inShape.join('x') !== file.observation.shape.join('x')) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `a model reading observations [${file.observation.shape}] (policy.json)`, `a model input [${inShape}]`, 'model.json and policy.json come from different exports; export the policy again'));
  }
  const width = outputWidth(file);
  if (outShape.length !== 2 || outShape[1] !== width) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `a model with ${width} outputs (${file.action?.type === 'Box' ? 'one per action value' : file.action?.type === 'MultiDiscrete' ? 'the logits of every part' : 'one per action'})`, `output shape [${outShape}]`, 'export the policy again'));
  }
  const stateInputs = model.inputs.length - 1;
  const declared = file.recurrentState?.shapes.length ?? 0;
  if (stateInputs !== declared) {
    model.dispose();
    throw new SpaceMismatchError(formatError('loadPolicy', `${declared} recurrent state inputs (policy.json)`, `${stateInputs}`, 'export the policy again'));
  }
}
