import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';

/** `npcforge embeddings <run> nearest <word> [--k n] [--json]`: inspects the word vectors an embedding-bag run learned. */
export function registerEmbeddings(program: Command): void {
  program
    .command('embeddings')
    .description('inspect the word embeddings of a `fit text --model embedding-bag` run')
    .argument('<run>', 'run folder written by `npcforge fit text --model embedding-bag`')
    .argument('<action>', "'nearest': the words most cosine-similar to <word>")
    .argument('<word>', 'a word of the training vocabulary')
    .option('--k <n>', 'neighbours to list', '10')
    .option('--json', 'print [{word, similarity}, ...]')
    .action(async (runDir: string, action: string, word: string, opts: { k: string; json?: boolean }) => {
      if (action !== 'nearest') throw new InvalidConfigError(formatError('npcforge embeddings', "the action 'nearest'", describe(action), 'run npcforge embeddings <run> nearest <word>'));
      const k = Number(opts.k);
      if (!(Number.isInteger(k) && k >= 1)) throw new InvalidConfigError(formatError('npcforge embeddings', '--k a positive integer', describe(opts.k), 'pass e.g. --k 10'));
      const { SupervisedRun } = await import('../../supervised/run.js');
      const run = await SupervisedRun.load(runDir);
      try {
        const near = await run.nearestWords(word, k);
        process.stdout.write(opts.json ? JSON.stringify(near) + '\n' : near.map((n) => `${n.word.padEnd(20)} ${n.similarity.toFixed(4)}`).join('\n') + '\n');
      } finally {
        run.dispose();
      }
    });
}
