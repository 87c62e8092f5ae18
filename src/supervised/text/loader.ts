/** Reads a text folder: `<dir>/<class>/*.txt`, one sample per file. */
import { DatasetError, formatError } from '../../errors.js';
import { MAX_SAMPLE_BYTES, listClassFiles, readSampleFile } from '../data-files.js';

/** Texts and class indices of a folder. */
export interface TextSet {
  texts: string[];
  /** The file of each text. */
  files: string[];
  labels: Int32Array;
  classes: string[];
}

/** Loads every `.txt` under `dir` (regular files within MAX_SAMPLE_BYTES.text, checked when listed); `classes` fixes the label order (from the training run) when given. */
export async function loadTextFolder(dir: string, classes?: string[]): Promise<TextSet> {
  const found = await listClassFiles(dir, {
    extensions: ['.txt'],
    maxBytes: MAX_SAMPLE_BYTES.text,
    component: 'loadTextFolder',
    classFolder: 'class',
    fix: 'run `npcforge data sentiment|spam --out <dir>` (texts go in <dir>/<class>/*.txt)',
  });
  const order = classes ?? found.map((c) => c.name);
  const unknown = found.map((c) => c.name).filter((f) => !order.includes(f));
  if (unknown.length > 0) throw new DatasetError(formatError('loadTextFolder', `only the trained classes (${order.join(', ')})`, `folders ${unknown.join(', ')}`, 'evaluate on data with the same classes'));
  const texts: string[] = [];
  const files: string[] = [];
  const labels: number[] = [];
  for (const c of found) {
    for (const f of c.files) {
      files.push(f);
      texts.push((await readSampleFile(f, MAX_SAMPLE_BYTES.text, 'loadTextFolder')).toString('utf8'));
      labels.push(order.indexOf(c.name));
    }
  }
  return { texts, files, labels: Int32Array.from(labels), classes: order };
}
