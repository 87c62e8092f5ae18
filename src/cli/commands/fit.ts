import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import type { ModelKind, Task } from '../../supervised/run.js';
import type { EpochMetrics } from '../../supervised/fit.js';

/** The object `npcforge fit --json` prints on stdout. */
export interface FitReport {
  /** The run folder written. */
  run: string;
  task: Task;
  model: ModelKind;
  classes: string[];
  trainSamples: number;
  validationSamples: number;
  /** Epochs trained (early stopping may end before --epochs). */
  epochs: number;
  /** Epoch (1-based) whose weights were kept. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Metrics of the kept epoch. */
  best: EpochMetrics | null;
}

const TASKS = ['image', 'speech', 'text'];

function num(name: string, value: string | undefined, check: (n: number) => boolean, hint: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!check(n)) throw new InvalidConfigError(formatError('npcforge fit', `--${name} ${hint}`, describe(value), `pass a valid --${name}`));
  return n;
}

/** `npcforge fit image|speech|text --data <dir>`: trains a supervised model and writes a run folder. */
export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('train a supervised classifier on <data>/train (validation split taken from it)')
    .argument('<task>', 'image|speech|text')
    .requiredOption('--data <dir>', 'data folder with train/<class>/... (see `npcforge data`)')
    .option('--model <kind>', 'cnn (image) | gru, lstm (speech) | nb-tfidf (default), tfidf, bow, embedding-bag, transformer, lstm, gru (text)')
    .option('--epochs <n>', 'maximum epochs (early stopping on validation loss may stop sooner)')
    .option('--batch-size <n>', 'samples per step')
    .option('--lr <x>', 'Adam learning rate')
    .option('--patience <n>', 'early-stopping patience, epochs')
    .option('--val <fraction>', 'validation fraction of the training folder', '0.1')
    .option('--class-weights <mode>', "'balanced' to weight classes by inverse frequency")
    .option('--oversample', 'repeat training samples of the smaller classes until every class has as many as the largest (not with --class-weights)')
    .option('--limit-per-class <n>', 'use at most n training samples per class')
    .option('--max-len <n>', 'text: tokens per sample (tfjs models)')
    .option('--embeddings <file>', 'text, --model embedding-bag: initialise word vectors from a GloVe text file (its width sets the embedding width)')
    .option('--seed <n>', 'seed of the split, shuffling, augmentation, initial weights and dropout (same seed, same backend: same weights)', '0')
    .option('--out <dir>', 'run folder (default runs/<task>__<model>__s<seed>__<time>); must be new or empty unless --force')
    .option('--force', 'replace the run in a non-empty --out folder (its old evaluation.json is removed)')
    .option('--quiet', 'no progress output')
    .option('--json', 'print the result as one JSON object on stdout (progress and the summary line go to stderr)')
    .action(async (task: string, opts: Record<string, string | boolean | undefined>) => {
      if (!TASKS.includes(task)) throw new InvalidConfigError(formatError('npcforge fit', "task 'image', 'speech' or 'text'", describe(task), 'e.g. npcforge fit image --data data/mnist'));
      const s = (k: string) => opts[k] as string | undefined;
      const posInt = (n: number) => Number.isInteger(n) && n >= 1;
      if (s('classWeights') !== undefined && s('classWeights') !== 'balanced') throw new InvalidConfigError(formatError('npcforge fit', "--class-weights 'balanced'", describe(s('classWeights')), 'pass --class-weights balanced or leave it out'));
      const fit = {
        ...(s('batchSize') ? { batchSize: num('batch-size', s('batchSize'), posInt, 'a positive integer') } : {}),
        ...(s('lr') ? { learningRate: num('lr', s('lr'), (n) => n > 0, 'a positive number') } : {}),
        ...(s('patience') ? { patience: num('patience', s('patience'), (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0') } : {}),
        ...(s('classWeights') ? { classWeights: 'balanced' as const } : {}),
      };
      // Loaded lazily so that commands without tfjs start fast.
      const { fitTask } = await import('../../supervised/run.js');
      const { runDir, result, run } = await fitTask({
        task: task as Task,
        data: s('data')!,
        model: s('model') as ModelKind | undefined,
        epochs: num('epochs', s('epochs'), posInt, 'a positive integer'),
        out: s('out'),
        seed: num('seed', s('seed'), (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0'),
        validationFraction: num('val', s('val'), (n) => n >= 0 && n < 1, 'a fraction in [0, 1)'),
        limitPerClass: num('limit-per-class', s('limitPerClass'), posInt, 'a positive integer'),
        oversample: opts.oversample === true,
        maxLen: num('max-len', s('maxLen'), posInt, 'a positive integer'),
        embeddings: s('embeddings'),
        fit: fit as Record<string, number | 'balanced'>,
        progress: opts.quiet ? null : process.stderr,
        overwrite: opts.force === true,
      });
      const best = result.history[result.bestEpoch - 1];
      // The linear text models try a grid of C instead of epochs: name the C kept.
      const cGrid = (run.network as { cGrid?: number[] }).cGrid;
      const kept = cGrid ? `C ${cGrid[result.bestEpoch - 1] ?? (run.network as { c?: number }).c}` : `epoch ${result.bestEpoch}`;
      const summary = `trained ${run.model} on ${run.trainSamples} samples (${run.validationSamples} validation), best ${kept}` + (best?.valAccuracy != null ? `, val_acc ${(best.valAccuracy * 100).toFixed(2)}%` : '') + `\nrun: ${runDir}\n`;
      if (!opts.json) {
        process.stdout.write(summary);
        return;
      }
      // Scripts read stdout; people still see the summary, on stderr, unless --quiet.
      if (!opts.quiet) process.stderr.write(summary);
      const report: FitReport = {
        run: runDir,
        task: run.task,
        model: run.model,
        classes: run.classes,
        trainSamples: run.trainSamples,
        validationSamples: run.validationSamples,
        epochs: result.history.length,
        bestEpoch: result.bestEpoch,
        stoppedEarly: result.stoppedEarly,
        best: best ?? null,
      };
      process.stdout.write(JSON.stringify(report) + '\n');
    });
}
