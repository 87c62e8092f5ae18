import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { MAX_SAMPLE_BYTES, checkSampleFile, readSampleFile } from '../../supervised/data-files.js';
import { IMAGE_EXTENSIONS, checkImageFile } from '../../supervised/image/loader.js';
import { checkWavFile } from '../../supervised/speech/wav.js';
import type { Task } from '../../supervised/run.js';

/** What each task reads from a file: its extensions, for the "wrong type" message. */
const INPUT_KINDS: Record<Exclude<Task, 'text'>, { what: string; extensions: readonly string[] }> = {
  image: { what: 'image file', extensions: IMAGE_EXTENSIONS },
  speech: { what: 'WAV file', extensions: ['.wav'] },
};

function article(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * Checks the file given to an image or speech run before it is decoded: a file of the wrong type
 * (`notes.txt` for an image run) is named as such, not reported as a broken image.
 */
async function checkInputFile(task: Exclude<Task, 'text'>, input: string): Promise<void> {
  const kind = INPUT_KINDS[task];
  const list = kind.extensions.join(', ');
  const ext = extname(input).toLowerCase();
  if (!kind.extensions.includes(ext)) {
    const got = ext === '' ? `${describe(input)} (no file extension)` : `a ${ext} file ${describe(input)}`;
    throw new InvalidConfigError(formatError('npcforge predict', `${article(kind.what)} (${list}) for this ${task} run`, got, `pass ${article(kind.what)} (${list})`));
  }
  if (!existsSync(input)) throw new InvalidConfigError(formatError('npcforge predict', `an existing ${kind.what} (${list})`, `${describe(input)}, which does not exist`, 'check the path'));
  await checkSampleFile(input, MAX_SAMPLE_BYTES[task], 'npcforge predict', { notRegularFix: `pass ${article(kind.what)} (${list})` });
  if (task === 'image') await checkImageFile(input, 'npcforge predict');
  else await checkWavFile(input, 'npcforge predict');
}

/** `npcforge predict <run> <file|text>`: classifies one image/WAV file or one text. */
export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify one input with a supervised run (image/WAV path, or the text itself)')
    .argument('<run>', 'run folder written by `npcforge fit`')
    .argument('<input>', 'file path (image: .png/.jpg/.jpeg; speech: .wav) or text (text runs; an existing .txt path is read)')
    .option('--json', 'print JSON')
    .action(async (runDir: string, input: string, opts: { json?: boolean }) => {
      const { SupervisedRun } = await import('../../supervised/run.js');
      const run = await SupervisedRun.load(runDir);
      try {
        let arg = input;
        if (run.info.task === 'text') {
          // An existing path ending in .txt is read (and must be a regular file); anything else is the text itself.
          if (input.toLowerCase().endsWith('.txt') && existsSync(input)) arg = (await readSampleFile(input, MAX_SAMPLE_BYTES.text, 'npcforge predict', { notRegularFix: 'pass a regular .txt file, or the text itself' })).toString('utf8');
        } else {
          await checkInputFile(run.info.task, input);
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
