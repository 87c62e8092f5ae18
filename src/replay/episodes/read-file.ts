/**
 * Node reader of `.npcep` files: the file checks (regular file, size within the format limit,
 * checked before reading) in front of `readEpisode`. The browser viewer fetches the bytes itself
 * and `readEpisode` applies the same size limit there.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { EpisodeFormatError, InvalidConfigError, formatError } from '../../errors.js';
import { MAX_EPISODE_BYTES } from './format.js';
import { readEpisode, type ReadEpisodeOptions, type RecordedEpisode } from './reader.js';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkFile(path: string, st: Stats): void {
  const where = `readEpisode ${path}`;
  if (!st.isFile()) throw new InvalidConfigError(formatError(where, 'a regular .npcep file', kindOf(st), 'pass the path of an episode file (runs/<id>/episodes/*.npcep)'));
  if (st.size > MAX_EPISODE_BYTES) throw new EpisodeFormatError(formatError(where, `an episode file of at most ${MAX_EPISODE_BYTES} bytes`, `${st.size} bytes`, 'this is not an episode written by npcforge'));
}

/**
 * Reads the bytes of an episode file. A missing path or one that is not a regular file (folder,
 * FIFO, device) is an InvalidConfigError, a file over MAX_EPISODE_BYTES an EpisodeFormatError;
 * the size is checked before anything is read.
 */
export function readEpisodeBytes(path: string): Uint8Array {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidConfigError(formatError(`readEpisode ${path}`, 'an episode file', code === 'ENOENT' ? 'no such file' : `an unreadable path (${code ?? 'error'})`, 'check the path'), { cause: err });
  }
  checkFile(path, st);
  let fd: number;
  try {
    // O_NONBLOCK: should the path be swapped for a FIFO after the stat, open must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidConfigError(formatError(`readEpisode ${path}`, 'a readable episode file', `an unreadable path (${code ?? 'error'})`, 'check the path and its permissions'), { cause: err });
  }
  try {
    const opened = fstatSync(fd);
    checkFile(path, opened);
    const bytes = new Uint8Array(opened.size);
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === bytes.length ? bytes : bytes.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Reads and validates an episode file (see readEpisodeBytes and readEpisode); errors name the file. */
export function readEpisodeFile(path: string, options: Omit<ReadEpisodeOptions, 'source'> = {}): RecordedEpisode {
  return readEpisode(readEpisodeBytes(path), { ...options, source: path });
}
