/** Reads a text folder: `<dir>/<class>/*.txt`, one sample per file. */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DatasetError, formatError } from '../../errors.js';

/** Texts and class indices of a folder. */
export interface TextSet {
  texts: string[];
  labels: Int32Array;
  classes: string[];
}

/** Loads every `.txt` under `dir`; `classes` fixes the label order (from the training run) when given. */
export async function loadTextFolder(dir: string, classes?: string[]): Promise<TextSet> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new DatasetError(formatError('loadTextFolder', 'a folder with one sub-folder per class', `${dir}: ${(err as Error).message}`, 'run `npcforge data sentiment|spam --out <dir>`'), { cause: err });
  }
  const found = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (found.length === 0) throw new DatasetError(formatError('loadTextFolder', 'at least one class sub-folder', `an empty folder ${dir}`, 'put texts in <dir>/<class>/*.txt'));
  const order = classes ?? found;
  const unknown = found.filter((f) => !order.includes(f));
  if (unknown.length > 0) throw new DatasetError(formatError('loadTextFolder', `only the trained classes (${order.join(', ')})`, `folders ${unknown.join(', ')}`, 'evaluate on data with the same classes'));
  const texts: string[] = [];
  const labels: number[] = [];
  for (const c of found) {
    const files = (await readdir(join(dir, c))).filter((f) => extname(f).toLowerCase() === '.txt').sort();
    if (files.length === 0) throw new DatasetError(formatError('loadTextFolder', '.txt files in every class folder', `none in ${join(dir, c)}`, 'add samples or remove the folder'));
    for (const f of files) {
      texts.push(await readFile(join(dir, c, f), 'utf8'));
      labels.push(order.indexOf(c));
    }
  }
  return { texts, labels: Int32Array.from(labels), classes: order };
}
