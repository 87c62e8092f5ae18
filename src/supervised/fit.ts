/**
 * The supervised training loop shared by the image, speech and text pipelines: mini-batch Adam on
 * softmax cross-entropy (the model outputs logits), optional class weights, early stopping on the
 * validation loss with the best weights restored, a progress bar per epoch on stderr.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';
import { SeededRng } from '../envs/rng.js';
import { withDropoutSeeds } from '../networks/seeding.js';
import type { BatchSource } from './data-source.js';
import { argmaxRows, balancedClassWeights } from './metrics.js';

/** Training hyperparameters. */
export interface FitConfig {
  /** Maximum number of passes over the training set. */
  epochs: number;
  /** Samples per gradient step. */
  batchSize: number;
  /** Adam step size. */
  learningRate: number;
  /** Epochs without a validation-loss improvement before stopping (0 disables early stopping). */
  patience: number;
  /** Smallest decrease of the validation loss that counts as an improvement (nats). */
  minDelta: number;
  /** Per-class loss weights: `balanced` (inverse frequency), explicit weights, or none. */
  classWeights: 'balanced' | number[] | null;
  /** Seed of the batch shuffling and of the dropout masks. */
  seed: number;
}

/** Defaults; each pipeline overrides a few. */
export const DEFAULT_FIT_CONFIG: FitConfig = { epochs: 10, batchSize: 32, learningRate: 1e-3, patience: 3, minDelta: 1e-4, classWeights: null, seed: 0 };

/** Checks every field, reporting all bad ones at once. */
export function resolveFitConfig(partial: Partial<FitConfig> = {}): FitConfig {
  const c = { ...DEFAULT_FIT_CONFIG, ...partial };
  const bad: string[] = [];
  const posInt = (k: keyof FitConfig) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad.push(`${k}=${describe(v)} (a positive integer)`);
  };
  posInt('epochs');
  posInt('batchSize');
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) bad.push(`learningRate=${describe(c.learningRate)} (a positive number)`);
  if (!(Number.isInteger(c.patience) && c.patience >= 0)) bad.push(`patience=${describe(c.patience)} (an integer >= 0)`);
  if (!(c.minDelta >= 0)) bad.push(`minDelta=${describe(c.minDelta)} (>= 0)`);
  if (!(Number.isInteger(c.seed) && c.seed >= 0)) bad.push(`seed=${describe(c.seed)} (an integer >= 0)`);
  if (c.classWeights !== null && c.classWeights !== 'balanced' && !(Array.isArray(c.classWeights) && c.classWeights.every((w) => w >= 0))) bad.push(`classWeights=${describe(c.classWeights)} ('balanced', null or non-negative numbers)`);
  if (bad.length > 0) throw new InvalidConfigError(formatError('FitConfig', 'valid training settings', bad.join('; '), 'fix the listed fields'));
  return c;
}

/** Metrics of one epoch. */
export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  seconds: number;
}

/** What `fitClassifier` returns. */
export interface FitResult {
  history: EpochMetrics[];
  /** Epoch (1-based) whose weights the model holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
}

/** Hooks for progress reporting. */
export interface FitHooks {
  /** Where the progress bar goes; null silences it. */
  progress?: NodeJS.WritableStream | null;
  onEpochEnd?: (m: EpochMetrics) => void | Promise<void>;
  /** Called when the monitored loss improved; the model holds that epoch's weights during the call. */
  onImprovement?: (epoch: number, history: EpochMetrics[]) => void | Promise<void>;
}

/** Mean (optionally weighted) softmax cross-entropy of logits against class indices; caller owns the scalar. */
export function weightedCrossEntropy(logits: tf.Tensor, labels: tf.Tensor1D, numClasses: number, classWeights: tf.Tensor1D | null): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits as tf.Tensor2D);
    const onehot = tf.oneHot(labels, numClasses);
    const nll = tf.neg(tf.sum(tf.mul(logp, onehot), -1));
    if (classWeights === null) return tf.mean(nll) as tf.Scalar;
    const w = tf.gather(classWeights, labels);
    return tf.mean(tf.mul(nll, w)) as tf.Scalar;
  });
}

class ProgressBar {
  private lastDraw = -1;
  constructor(private readonly out: NodeJS.WritableStream | null, private readonly total: number, private readonly label: string) {}
  update(done: number, loss: number): void {
    if (this.out === null || !(this.out as NodeJS.WriteStream).isTTY) return;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    if (filled === this.lastDraw && done < this.total) return;
    this.lastDraw = filled;
    this.out.write(`\r${this.label} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${this.total} loss ${loss.toFixed(4)}`);
  }
  finish(line: string): void {
    if (this.out === null) return;
    const tty = (this.out as NodeJS.WriteStream).isTTY;
    this.out.write(`${tty ? '\r\x1b[K' : ''}${line}\n`);
  }
}

/** Loss and accuracy of `model` over a source, in storage order (no gradient). */
export async function evaluateLoss(model: tf.LayersModel, source: BatchSource, numClasses: number, batchSize: number): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let correct = 0;
  for await (const batch of source.batches(batchSize)) {
    const { loss, logits } = tf.tidy(() => {
      const lg = model.predict(batch.x) as tf.Tensor;
      const l = weightedCrossEntropy(lg, tf.tensor1d(batch.labels, 'int32'), numClasses, null);
      return { loss: l, logits: lg };
    });
    batch.x.dispose();
    const [lv, pv] = await Promise.all([loss.data(), logits.data()]);
    loss.dispose();
    logits.dispose();
    lossSum += lv[0]! * batch.labels.length;
    const pred = argmaxRows(pv, numClasses);
    for (let i = 0; i < pred.length; i++) if (pred[i] === batch.labels[i]) correct++;
  }
  return { loss: lossSum / Math.max(1, source.size), accuracy: correct / Math.max(1, source.size) };
}

/**
 * Trains `model` (logits output, `numClasses` units) on `train`, early-stopping on `validation`.
 * The model is left holding the weights of the best validation epoch.
 */
export async function fitClassifier(model: tf.LayersModel, train: BatchSource, validation: BatchSource | null, numClasses: number, partial: Partial<FitConfig> = {}, hooks: FitHooks = {}): Promise<FitResult> {
  const config = resolveFitConfig(partial);
  if (train.size === 0) throw new InvalidConfigError(formatError('fitClassifier', 'a non-empty training set', '0 samples', 'check the data folder'));
  const rng = new SeededRng(config.seed);
  // Dropout masks from their own stream: the data order does not depend on how many dropout layers the model has.
  const dropoutRng = new SeededRng(`${config.seed}:dropout`);
  const optimizer = tf.train.adam(config.learningRate);
  const weightsArray = config.classWeights === 'balanced' ? balancedClassWeights(train.labels, numClasses) : config.classWeights;
  if (weightsArray !== null && weightsArray.length !== numClasses) {
    throw new InvalidConfigError(formatError('fitClassifier', `${numClasses} class weights`, `${weightsArray.length}`, 'give one weight per class'));
  }
  const classWeights = weightsArray === null ? null : tf.tensor1d(weightsArray);
  const progress = hooks.progress === undefined ? process.stderr : hooks.progress;
  const history: EpochMetrics[] = [];
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const t0 = performance.now();
      const bar = new ProgressBar(progress, train.size, `epoch ${epoch}/${config.epochs}`);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for await (const batch of train.batches(config.batchSize, rng)) {
        const labelsT = tf.tensor1d(batch.labels, 'int32');
        let logitsOut: tf.Tensor | null = null;
        const loss = await withDropoutSeeds(model, dropoutRng, () =>
          optimizer.minimize(() => {
            const logits = model.apply(batch.x, { training: true }) as tf.Tensor;
            logitsOut = tf.keep(logits.clone());
            return weightedCrossEntropy(logits, labelsT, numClasses, classWeights);
          }, true) as tf.Scalar,
        );
        batch.x.dispose();
        labelsT.dispose();
        const logits = logitsOut as unknown as tf.Tensor;
        const [lv, pv] = await Promise.all([loss.data(), logits.data()]);
        loss.dispose();
        logits.dispose();
        const n = batch.labels.length;
        lossSum += lv[0]! * n;
        const pred = argmaxRows(pv, numClasses);
        for (let i = 0; i < n; i++) if (pred[i] === batch.labels[i]) correct++;
        seen += n;
        bar.update(seen, lossSum / seen);
      }
      const val = validation && validation.size > 0 ? await evaluateLoss(model, validation, numClasses, Math.max(config.batchSize, 64)) : null;
      const m: EpochMetrics = { epoch, loss: lossSum / seen, accuracy: correct / seen, valLoss: val?.loss ?? null, valAccuracy: val?.accuracy ?? null, seconds: (performance.now() - t0) / 1000 };
      history.push(m);
      bar.finish(`epoch ${epoch}/${config.epochs} loss ${m.loss.toFixed(4)} acc ${(m.accuracy * 100).toFixed(1)}%` + (val ? ` val_loss ${val.loss.toFixed(4)} val_acc ${(val.accuracy * 100).toFixed(1)}%` : '') + ` (${m.seconds.toFixed(1)} s)`);
      await hooks.onEpochEnd?.(m);
      const monitored = val ? val.loss : m.loss;
      if (monitored < bestLoss - config.minDelta) {
        bestLoss = monitored;
        bestEpoch = epoch;
        sinceBest = 0;
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = model.getWeights().map((w) => w.clone());
        await hooks.onImprovement?.(epoch, history);
      } else {
        sinceBest++;
        if (config.patience > 0 && val && sinceBest >= config.patience) {
          stoppedEarly = true;
          break;
        }
      }
    }
    if (bestWeights !== null && bestEpoch !== history.length) model.setWeights(bestWeights);
  } finally {
    bestWeights?.forEach((w) => w.dispose());
    classWeights?.dispose();
    optimizer.dispose();
  }
  return { history, bestEpoch, stoppedEarly };
}

/** Class probabilities (softmax of the logits) for a batch; returns plain numbers, owns no tensors. */
export async function predictProbabilities(model: tf.LayersModel, x: tf.Tensor, numClasses: number): Promise<Float32Array> {
  const probs = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor2D));
  const data = (await probs.data()) as Float32Array;
  probs.dispose();
  if (data.length % numClasses !== 0) throw new InvalidConfigError(formatError('predictProbabilities', `a multiple of ${numClasses} outputs`, `${data.length}`, 'check the model head'));
  return data;
}
