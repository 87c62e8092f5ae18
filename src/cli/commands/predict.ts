import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { InvalidConfigError, formatError } from '../../errors.js';
import { isFile } from '../../supervised/image/loader.js';

/** `npcforge predict <run> <file|text>`: classifies one image/WAV file or one text. */
export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify one input with a supervised run (image/WAV path, or the text itself)')
    .argument('<run>', 'run folder written by `npcforge fit`')
    .argument('<input>', 'file path (image, speech) or text (text; a .txt path is read)')
    .option('--json', 'print JSON')
    .action(async (runDir: string, input: string, opts: { json?: boolean }) => {
      const { SupervisedRun } = await import('../../supervised/run.js');
      const run = await SupervisedRun.load(runDir);
      try {
        let arg = input;
        if (run.info.task === 'text') {
          if (input.endsWith('.txt') && (await isFile(input))) arg = await readFile(input, 'utf8');
        } else if (!(await isFile(input))) {
          throw new InvalidConfigError(formatError('npcforge predict', `an existing ${run.info.task === 'image' ? 'image' : 'WAV'} file`, input, 'pass a file path'));
        }
        const out = await run.predict(arg);
        if (opts.json) {
          process.stdout.write(JSON.stringify(out) + '\n');
        } else {
          const top = Object.entries(out.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3);
          process.stdout.write(`${out.label}  (${top.map(([c, p]) => `${c} ${(p * 100).toFixed(1)}%`).join(', ')})\n`);
        }
      } finally {
        run.dispose();
      }
    });
}
