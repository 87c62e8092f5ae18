/**
 * The classical text baselines of `npcforge fit text`: logistic regression over n-gram features.
 * - `bow`: raw counts of unigrams + bigrams, rows L2-normalised.
 * - `tfidf`: sublinear tf (1 + ln tf) times smoothed idf, rows L2-normalised.
 * - `nb-tfidf`: the tfidf rows scaled by the NB log-count ratio before the regression (NB-LR,
 *   Wang & Manning 2012); measured best of the three on the validation splits of sentiment.
 * No tfjs: features are sparse typed arrays, training is full-batch L-BFGS in float64 (logistic.ts),
 * so a run is deterministic: its only seed-dependent part is the validation split that picks C.
 *
 * Saved as `model/linear.json` (vectorizer, settings, biases, the C picked) and `model/weights.bin`
 * (float32 little-endian, [outputs, features] row-major; outputs = 1 for two classes, else one
 * per class).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, InvalidConfigError, UnsupportedVersionError, describe, formatError } from '../../errors.js';
import { MAX_RUN_FILE_BYTES, readRunFolderFile } from '../model-io.js';
import type { EpochMetrics } from '../fit.js';
import { NgramVectorizer, type CsrMatrix, type NgramVectorizerJson, type TermWeighting } from './ngram-features.js';
import { DEFAULT_LOGISTIC_CONFIG, fitBinaryLogistic, sparseScores } from './logistic.js';

export const LINEAR_TEXT_MODELS = ['nb-tfidf', 'tfidf', 'bow'] as const;
export type LinearTextModelKind = (typeof LINEAR_TEXT_MODELS)[number];

/** True for the names of the linear text models. */
export function isLinearTextModel(kind: string): kind is LinearTextModelKind {
  return (LINEAR_TEXT_MODELS as readonly string[]).includes(kind);
}

/** Feature weighting and NB scaling of each linear model. */
const SETUPS: Record<LinearTextModelKind, { weighting: TermWeighting; nbWeighting: boolean }> = {
  bow: { weighting: 'count', nbWeighting: false },
  tfidf: { weighting: 'tfidf', nbWeighting: false },
  'nb-tfidf': { weighting: 'tfidf', nbWeighting: true },
};

/** Settings of a linear text model (`network` overrides of `fitTask`). */
export interface LinearTextConfig {
  /** Inverse L2 strengths tried on the validation split; the best (accuracy, then log-loss) is refitted on all training texts. */
  cGrid: number[];
  /** C used when there is no validation split. */
  c: number;
  /** Longest n-gram, words. */
  maxN: number;
  /** Terms in fewer training texts than this are dropped. */
  minDf: number;
  /** Largest vocabulary. */
  maxFeatures: number;
  /** Most L-BFGS iterations per fit. */
  maxIterations: number;
}

// C below 1 lost 2-3 points on the sentiment validation splits (seeds 0-2); above 100 the fits stop gaining.
export const DEFAULT_LINEAR_TEXT_CONFIG: LinearTextConfig = { cGrid: [1, 3, 10, 30, 100], c: 10, maxN: 2, minDf: 1, maxFeatures: 200_000, maxIterations: DEFAULT_LOGISTIC_CONFIG.maxIterations };

/** Checks every field, reporting all bad ones at once. */
export function resolveLinearTextConfig(partial: Record<string, unknown> = {}): LinearTextConfig {
  const known = Object.keys(DEFAULT_LINEAR_TEXT_CONFIG);
  const c = { ...DEFAULT_LINEAR_TEXT_CONFIG, ...partial } as LinearTextConfig;
  const bad: string[] = Object.keys(partial).filter((k) => !known.includes(k)).map((k) => `${k} (unknown; known: ${known.join(', ')})`);
  const positive = (v: unknown) => typeof v === 'number' && v > 0 && Number.isFinite(v);
  if (!(Array.isArray(c.cGrid) && c.cGrid.length > 0 && c.cGrid.every(positive))) bad.push(`cGrid=${describe(c.cGrid)} (positive numbers)`);
  if (!positive(c.c)) bad.push(`c=${describe(c.c)} (a positive number)`);
  if (!(Number.isInteger(c.maxIterations) && c.maxIterations >= 1)) bad.push(`maxIterations=${describe(c.maxIterations)} (a positive integer)`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('LinearTextConfig', 'valid linear model settings', bad.join('; '), 'fix the listed fields'));
  return c;
}

/** Saved description of a linear model (`model/linear.json`). */
export interface LinearTextModelJson {
  format: 'npcforge-linear-text-model';
  version: 1;
  kind: LinearTextModelKind;
  numClasses: number;
  /** C of the saved fit. */
  c: number;
  bias: number[];
  vectorizer: NgramVectorizerJson;
}

/** Scores of a linear model as class probabilities: sigmoid for two classes, normalised one-vs-rest sigmoids otherwise. */
function probabilitiesFromScores(scores: Float64Array[], numClasses: number, rows: number): Float32Array {
  const out = new Float32Array(rows * numClasses);
  for (let i = 0; i < rows; i++) {
    if (numClasses === 2) {
      const p = 1 / (1 + Math.exp(-scores[0]![i]!));
      out[i * 2] = 1 - p;
      out[i * 2 + 1] = p;
      continue;
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += 1 / (1 + Math.exp(-scores[c]![i]!));
    for (let c = 0; c < numClasses; c++) out[i * numClasses + c] = 1 / (1 + Math.exp(-scores[c]![i]!)) / sum;
  }
  return out;
}

/** A fitted linear text classifier. Plain arrays, nothing to dispose. */
export class LinearTextModel {
  constructor(
    readonly kind: LinearTextModelKind,
    readonly vectorizer: NgramVectorizer,
    readonly numClasses: number,
    readonly c: number,
    /** [outputs, features] row-major, NB ratio folded in. */
    readonly weights: Float32Array,
    readonly bias: Float64Array,
  ) {}

  get outputs(): number {
    return this.numClasses === 2 ? 1 : this.numClasses;
  }

  /** Class probabilities of `texts`, row-major [texts, classes]. */
  probabilities(texts: string[]): Float32Array {
    return this.probabilitiesOf(this.vectorizer.transform(texts));
  }

  /** Class probabilities of already vectorised rows. */
  probabilitiesOf(x: CsrMatrix): Float32Array {
    const f = this.vectorizer.numFeatures;
    const scores = Array.from({ length: this.outputs }, (_, o) => sparseScores(x, this.weights.subarray(o * f, (o + 1) * f), this.bias[o]!));
    return probabilitiesFromScores(scores, this.numClasses, x.rows);
  }

  /** Writes `linear.json` and `weights.bin` into `dir` (each through a temporary file and a rename). */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const json: LinearTextModelJson = { format: 'npcforge-linear-text-model', version: 1, kind: this.kind, numClasses: this.numClasses, c: this.c, bias: Array.from(this.bias), vectorizer: this.vectorizer.toJSON() };
    const bytes = new Uint8Array(this.weights.length * 4);
    const view = new DataView(bytes.buffer);
    this.weights.forEach((w, i) => view.setFloat32(i * 4, w, true));
    for (const [name, data] of [['weights.bin', bytes], ['linear.json', JSON.stringify(json)]] as const) {
      const tmp = join(dir, `${name}.tmp-${process.pid}`);
      await writeFile(tmp, data);
      await rename(tmp, join(dir, name));
    }
  }

  /** Loads a model written by `save`; the folder is untrusted (sizes and every field checked). */
  static async load(dir: string): Promise<LinearTextModel> {
    const fix = 'refit the run with `npcforge fit text`';
    const path = join(dir, 'linear.json');
    const json = (await readRunFolderFile(path, { maxBytes: MAX_RUN_FILE_BYTES.json, component: 'LinearTextModel.load', fix, json: true })) as LinearTextModelJson | null;
    const fail = (expected: string, received: string): never => {
      throw new CheckpointError(formatError('LinearTextModel.load', expected, `${received} in ${path}`, fix));
    };
    if (json === null || typeof json !== 'object') return fail('an object', describe(json));
    if (json.format !== 'npcforge-linear-text-model') fail("format 'npcforge-linear-text-model'", describe(json.format));
    if (json.version !== 1) throw new UnsupportedVersionError(formatError('LinearTextModel.load', 'version 1', `${describe(json.version)} in ${path}`, 'upgrade npcforge'));
    if (!isLinearTextModel(json.kind)) fail(`a kind (${LINEAR_TEXT_MODELS.join(', ')})`, describe(json.kind));
    if (!(Number.isInteger(json.numClasses) && json.numClasses >= 2 && json.numClasses <= 10_000)) fail('numClasses 2..10000', describe(json.numClasses));
    const outputs = json.numClasses === 2 ? 1 : json.numClasses;
    if (!(Array.isArray(json.bias) && json.bias.length === outputs && json.bias.every((b) => typeof b === 'number' && Number.isFinite(b)))) fail(`${outputs} finite biases`, Array.isArray(json.bias) ? `${json.bias.length} values` : describe(json.bias));
    if (!(typeof json.c === 'number' && json.c > 0)) fail('a positive c', describe(json.c));
    const vectorizer = NgramVectorizer.fromJSON(json.vectorizer, path);
    const expectedBytes = outputs * vectorizer.numFeatures * 4;
    // Checked against the size the JSON implies before anything is allocated.
    const bytes = await readRunFolderFile(join(dir, 'weights.bin'), { maxBytes: Math.min(expectedBytes, MAX_RUN_FILE_BYTES.weights), component: 'LinearTextModel.load', fix });
    if (bytes.length !== expectedBytes) fail(`weights.bin of ${expectedBytes} bytes`, `${bytes.length} bytes`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const weights = new Float32Array(expectedBytes / 4);
    for (let i = 0; i < weights.length; i++) weights[i] = view.getFloat32(i * 4, true);
    if (!weights.every(Number.isFinite)) fail('finite weights', 'a NaN or infinite weight');
    return new LinearTextModel(json.kind, vectorizer, json.numClasses, json.c, weights, Float64Array.from(json.bias));
  }
}

/** Fits one model with a fixed C on vectorised rows. */
function fitWithC(kind: LinearTextModelKind, vectorizer: NgramVectorizer, x: CsrMatrix, labels: Int32Array, numClasses: number, c: number, maxIterations: number): LinearTextModel {
  const outputs = numClasses === 2 ? 1 : numClasses;
  const f = vectorizer.numFeatures;
  const weights = new Float32Array(outputs * f);
  const bias = new Float64Array(outputs);
  for (let o = 0; o < outputs; o++) {
    // Two classes: one classifier for class 1; more: class o against the rest.
    const positive = numClasses === 2 ? 1 : o;
    const y = Int8Array.from(labels, (l) => (l === positive ? 1 : -1));
    const fit = fitBinaryLogistic(x, y, { c, nbWeighting: SETUPS[kind].nbWeighting, maxIterations });
    weights.set(fit.weights, o * f);
    bias[o] = fit.bias;
  }
  return new LinearTextModel(kind, vectorizer, numClasses, c, weights, bias);
}

/** Mean log-loss and accuracy of probabilities against labels. */
function scoreProbabilities(p: Float32Array, labels: Int32Array, numClasses: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = p.subarray(i * numClasses, (i + 1) * numClasses);
    loss -= Math.log(Math.max(row[labels[i]!]!, 1e-12));
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (row[c]! > row[best]!) best = c;
    if (best === labels[i]) correct++;
  }
  return { loss: loss / Math.max(1, labels.length), accuracy: correct / Math.max(1, labels.length) };
}

/** What `fitLinearTextModel` returns: the final model and one history line per C tried. */
export interface LinearFitResult {
  model: LinearTextModel;
  history: EpochMetrics[];
  /** 1-based index into `history` of the C kept. */
  bestEpoch: number;
}

/**
 * Tries every C of the grid on (train, validation), keeps the best on validation (accuracy, then
 * log-loss), and refits with it on train + validation. Without a validation split, fits once with
 * `config.c`. `onEpochEnd` sees one line per C (epoch = its 1-based index).
 */
export async function fitLinearTextModel(opts: {
  kind: LinearTextModelKind;
  texts: string[];
  labels: Int32Array;
  numClasses: number;
  trainIndices: number[];
  validationIndices: number[];
  config?: Record<string, unknown>;
  onEpochEnd?: (m: EpochMetrics) => void | Promise<void>;
}): Promise<LinearFitResult> {
  const config = resolveLinearTextConfig(opts.config);
  const { kind, texts, labels, numClasses } = opts;
  if (opts.trainIndices.length === 0) throw new InvalidConfigError(formatError('fitLinearTextModel', 'a non-empty training set', '0 samples', 'check the data folder'));
  const vectorizerConfig = { maxN: config.maxN, minDf: config.minDf, maxFeatures: config.maxFeatures, weighting: SETUPS[kind].weighting };
  const trainTexts = opts.trainIndices.map((i) => texts[i]!);
  const trainLabels = Int32Array.from(opts.trainIndices, (i) => labels[i]!);
  const history: EpochMetrics[] = [];
  let best = { c: config.c, accuracy: -1, loss: Infinity, epoch: 1 };
  if (opts.validationIndices.length > 0) {
    const vectorizer = NgramVectorizer.fit(trainTexts, vectorizerConfig);
    const xTrain = vectorizer.transform(trainTexts);
    const xVal = vectorizer.transform(opts.validationIndices.map((i) => texts[i]!));
    const valLabels = Int32Array.from(opts.validationIndices, (i) => labels[i]!);
    for (const [k, c] of config.cGrid.entries()) {
      const t0 = performance.now();
      const model = fitWithC(kind, vectorizer, xTrain, trainLabels, numClasses, c, config.maxIterations);
      const tr = scoreProbabilities(model.probabilitiesOf(xTrain), trainLabels, numClasses);
      const val = scoreProbabilities(model.probabilitiesOf(xVal), valLabels, numClasses);
      const m: EpochMetrics = { epoch: k + 1, loss: tr.loss, accuracy: tr.accuracy, valLoss: val.loss, valAccuracy: val.accuracy, seconds: (performance.now() - t0) / 1000 };
      history.push(m);
      await opts.onEpochEnd?.(m);
      if (val.accuracy > best.accuracy || (val.accuracy === best.accuracy && val.loss < best.loss)) best = { c, accuracy: val.accuracy, loss: val.loss, epoch: k + 1 };
    }
  }
  // The final model sees every training text: the validation split has done its job (picking C).
  const all = [...opts.trainIndices, ...opts.validationIndices].sort((a, b) => a - b);
  const allTexts = all.map((i) => texts[i]!);
  const allLabels = Int32Array.from(all, (i) => labels[i]!);
  const t0 = performance.now();
  const vectorizer = NgramVectorizer.fit(allTexts, vectorizerConfig);
  const x = vectorizer.transform(allTexts);
  const model = fitWithC(kind, vectorizer, x, allLabels, numClasses, best.c, config.maxIterations);
  if (history.length === 0) {
    const tr = scoreProbabilities(model.probabilitiesOf(x), allLabels, numClasses);
    const m: EpochMetrics = { epoch: 1, loss: tr.loss, accuracy: tr.accuracy, valLoss: null, valAccuracy: null, seconds: (performance.now() - t0) / 1000 };
    history.push(m);
    await opts.onEpochEnd?.(m);
  }
  return { model, history, bestEpoch: best.epoch };
}
