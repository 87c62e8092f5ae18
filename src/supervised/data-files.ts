/**
 * Safe access to the files of a data folder (`<dir>/<class>/<file>`): everything in it is
 * untrusted. A sample must be a regular file (symlinks are followed, so a `.txt` linked to
 * `/dev/zero`, a FIFO or a folder named `x.txt` is refused) within a size limit, checked when the
 * folder is listed, before anything is read; reads never block on a FIFO and never read past the
 * limit even if the file grew since it was listed.
 */
import { constants } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DatasetError, formatError } from '../errors.js';

/** Largest sample file per kind, bytes: far above real samples, far below what hurts memory. */
export const MAX_SAMPLE_BYTES = {
  /** A text sample (the largest SpamAssassin message is under 1 MB). */
  text: 8 * 1024 * 1024,
  /** A PNG or JPEG image. */
  image: 64 * 1024 * 1024,
  /** A WAV clip (a minute of 16-bit 48 kHz stereo is 11 MB). */
  speech: 64 * 1024 * 1024,
} as const;

/** A limit as people read it, with the exact byte count next to it. */
function limit(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB (${bytes} bytes)`;
}

/** Fix of a sample that is not a regular file, for a file found in a data folder. */
const NOT_REGULAR_FIX = 'remove it from the data folder (samples must be regular files)';

/**
 * Checks that `path` is a regular file of at most `maxBytes` (following symlinks) without opening
 * it; returns its size. `component` names the caller in the error; `notRegularFix` replaces the
 * data-folder advice for a file the user named (`npcforge predict <run> <file>`).
 */
export async function checkSampleFile(path: string, maxBytes: number, component: string, options: { notRegularFix?: string } = {}): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new DatasetError(formatError(component, 'a readable file', `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path (a broken symlink?)'), { cause: err });
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw new DatasetError(formatError(component, 'a regular file', `${kind} at ${path}`, options.notRegularFix ?? NOT_REGULAR_FIX));
  }
  if (st.size > maxBytes) {
    throw new DatasetError(formatError(component, `a sample file of at most ${limit(maxBytes)}`, `${st.size} bytes in ${path}`, 'remove or shrink the file'));
  }
  return st.size;
}

/** Opens a sample file for reading without blocking (a FIFO swapped in after listing cannot hang the run). */
async function openSample(path: string, component: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new DatasetError(formatError(component, 'a readable file', `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check its permissions'), { cause: err });
  }
}

/**
 * Reads a sample file, at most `maxBytes`: opened non-blocking (a FIFO swapped in after listing
 * cannot hang the run) and re-checked on the open handle.
 */
export async function readSampleFile(path: string, maxBytes: number, component: string, options: { notRegularFix?: string } = {}): Promise<Buffer> {
  await checkSampleFile(path, maxBytes, component, options);
  const fh = await openSample(path, component);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > maxBytes) {
      throw new DatasetError(formatError(component, `a regular file of at most ${limit(maxBytes)}`, `${path}, changed while it was read`, 'do not modify the data folder during a run'));
    }
    const buf = Buffer.alloc(st.size);
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === buf.length ? buf : buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}

/** Reads the first and last bytes of a (checked) file: enough for format headers and trailers. */
export async function readSampleEnds(path: string, headBytes: number, tailBytes: number, component: string): Promise<{ head: Buffer; tail: Buffer; size: number }> {
  const fh = await openSample(path, component);
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(headBytes, size));
    await fh.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(tailBytes, size));
    await fh.read(tail, 0, tail.length, size - tail.length);
    return { head, tail, size };
  } finally {
    await fh.close();
  }
}

/** Files checked at once while a folder is listed. */
const LIST_CONCURRENCY = 32;

/** One class folder's sample files, sorted by name. */
export interface ClassFiles {
  name: string;
  files: string[];
}

/**
 * Lists `<dir>/<class>/*<ext>`: class folders sorted by name, files sorted, each checked by
 * `checkSampleFile`. Other files (other extensions) are ignored, as before; an entry with a sample
 * extension that is not a regular file is an error naming it.
 */
export async function listClassFiles(
  dir: string,
  options: {
    extensions: readonly string[];
    maxBytes: number;
    component: string;
    /** What a class folder holds, for messages: 'class', 'word'. */
    classFolder: string;
    /** The fix suggested when the folder is missing or has no class folders. */
    fix: string;
    /** Extra check of each file's content (a format header), after the size check. */
    checkContent?: (path: string) => Promise<void>;
  },
): Promise<ClassFiles[]> {
  const { component } = options;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new DatasetError(formatError(component, `a readable folder with one sub-folder per ${options.classFolder}`, `${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, options.fix), { cause: err });
  }
  const classes = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (classes.length === 0) throw new DatasetError(formatError(component, `at least one ${options.classFolder} sub-folder`, `an empty folder ${dir}`, options.fix));
  const out: ClassFiles[] = [];
  for (const name of classes) {
    const classDir = join(dir, name);
    const files = (await readdir(classDir)).filter((f) => options.extensions.includes(extname(f).toLowerCase())).sort().map((f) => join(classDir, f));
    if (files.length === 0) throw new DatasetError(formatError(component, `${options.extensions.join(', ')} files in every ${options.classFolder} folder`, `none in ${classDir}`, 'add samples or remove the folder'));
    // A few files at a time: listing 60,000 MNIST images one by one would wait on each stat in turn.
    for (let i = 0; i < files.length; i += LIST_CONCURRENCY) {
      await Promise.all(
        files.slice(i, i + LIST_CONCURRENCY).map(async (f) => {
          await checkSampleFile(f, options.maxBytes, component);
          await options.checkContent?.(f);
        }),
      );
    }
    out.push({ name, files });
  }
  return out;
}
