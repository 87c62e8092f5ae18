import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';

const DATASETS = ['mnist', 'fashion-mnist', 'speech', 'sentiment', 'spam'];

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidConfigError(formatError('npcforge data', `--${name} an integer >= ${min}`, describe(value), `pass e.g. --${name} ${Math.max(min, 1)}`));
  return n;
}

/** Where data progress goes, and the clock it reads (tests pass their own). */
export interface DataProgressOptions {
  out: { write(s: string): boolean; isTTY?: boolean };
  label: string;
  now?: () => number;
}

/**
 * Progress of a long export on stderr: fashion-mnist (70,000 PNGs) and speech (3,600 clips) take
 * minutes. A counter redrawn at most 5 times a second on a terminal; otherwise one line per 10 s,
 * so short exports print nothing. Call the returned `done()` after the last file.
 */
export function dataProgress(o: DataProgressOptions): { update(done: number, total: number): void; done(): void } {
  const now = o.now ?? Date.now;
  const tty = o.out.isTTY === true;
  let last = now();
  let drawn = false;
  return {
    update(done, total) {
      const t = now();
      if (t - last < (tty ? 200 : 10_000) || done === total) return;
      last = t;
      const text = `${o.label}: ${done}/${total} files (${Math.floor((100 * done) / total)}%)`;
      o.out.write(tty ? `\r${text}` : `${text}\n`);
      drawn = tty;
    },
    done() {
      if (drawn) o.out.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** `npcforge data <name> --out <dir>`: writes a data set as train/ and test/ class folders. */
export function registerData(program: Command): void {
  program
    .command('data')
    .description(`prepare a supervised data set (${DATASETS.join('|')}) as <out>/{train,test}/<class>/...`)
    .argument('<name>', DATASETS.join('|'))
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <n>', 'seed of the split (and of the speech synthesis)', '0')
    .option('--limit-per-class <n>', 'mnist/fashion-mnist: keep at most n images per class')
    .option('--voices <n>', 'speech: number of voices (default 60)')
    .option('--takes <n>', 'speech: renditions per word and voice (default 3)')
    .option('--words <list>', 'speech: comma-separated words (default the 20 command words)')
    .option('--jobs <n>', 'speech: parallel synthesis processes (default 4)')
    .action(async (name: string, opts: { out: string; seed: string; limitPerClass?: string; voices?: string; takes?: string; words?: string; jobs?: string }) => {
      const seed = intOption('seed', opts.seed, 0)!;
      const { exportImageDataset } = await import('../../supervised/data/image-datasets.js');
      const { exportTextDataset, loadSentimentSentences, loadSpamAssassin } = await import('../../supervised/data/text-datasets.js');
      const { generateSpeechDataset } = await import('../../supervised/speech/generate.js');
      let summary: { train: number; test: number; classes: string[] };
      const progress = dataProgress({ out: process.stderr, label: `npcforge data ${name}` });
      const onProgress = (done: number, total: number): void => progress.update(done, total);
      try {
        if (name === 'mnist' || name === 'fashion-mnist') {
          summary = await exportImageDataset(name, { out: opts.out, seed, limitPerClass: intOption('limit-per-class', opts.limitPerClass, 1), onProgress });
        } else if (name === 'sentiment') {
          summary = await exportTextDataset(await loadSentimentSentences(), { out: opts.out, seed });
        } else if (name === 'spam') {
          summary = await exportTextDataset(await loadSpamAssassin(), { out: opts.out, seed });
        } else if (name === 'speech') {
          const words = opts.words?.split(',').map((w) => w.trim()).filter((w) => w.length > 0);
          const s = await generateSpeechDataset({
            out: opts.out,
            seed,
            ...(words ? { words } : {}),
            ...(opts.voices ? { voices: intOption('voices', opts.voices, 2)! } : {}),
            ...(opts.takes ? { takes: intOption('takes', opts.takes, 1)! } : {}),
            ...(opts.jobs ? { concurrency: intOption('jobs', opts.jobs, 1)! } : {}),
          }, { onProgress });
          progress.done();
          process.stdout.write(`voices: ${s.voices.train.length} train, ${s.voices.test.length} test (unseen)\n`);
          summary = s;
        } else {
          throw new InvalidConfigError(formatError('npcforge data', `one of ${DATASETS.join(', ')}`, describe(name), 'pick a listed data set'));
        }
      } finally {
        // Clears the counter line, also before an error message.
        progress.done();
      }
      process.stdout.write(`${name}: ${summary.train} train, ${summary.test} test, ${summary.classes.length} classes -> ${opts.out}\n`);
    });
}
