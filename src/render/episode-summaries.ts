/**
 * Return and length of every episode in the viewer's lists, read cheaply: the first and the last
 * bytes of each file (see replay/episodes/summary.ts), never the chunks in between, and cached by
 * file identity and mtime so that a listing refresh reads nothing that did not change.
 */
import { promises as fs, type Stats } from 'node:fs';
import { SUMMARY_HEAD_BYTES, SUMMARY_TAIL_BYTES, summarizeEpisode, type EpisodeSummaryResult } from '../replay/episodes/summary.js';
import { openRegularFile } from './static-files.js';

/** Most files remembered (a root of 500 runs x 20 episodes fits); the oldest entries go first. */
const MAX_CACHED = 20_000;
/** mtimes this close to now (ms) are not trusted to change with the next write (see RACY_MS in server.ts). */
const RACY_MS = 2000;

interface Cached {
  key: string;
  result: EpisodeSummaryResult;
}

/** What identifies one version of a file: device, inode, size and mtime. */
const keyOf = (st: Stats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

async function readAt(handle: fs.FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await handle.read(buf, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? buf : buf.subarray(0, off);
}

/** Summaries of episode files by real path. */
export class EpisodeSummaries {
  private readonly cache = new Map<string, Cached>();
  /** Files read since creation (tests check that a repeated listing reads none). */
  reads = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The summary of the regular file at `real` (a real path already checked to be inside the served
   * folder). `known`: the file's stat from the caller's listing, so that a cached file is not even
   * opened (the key is checked again on the open handle when it is read).
   */
  async get(real: string, known?: Stats): Promise<EpisodeSummaryResult> {
    const hit = this.cache.get(real);
    if (hit && known && hit.key === keyOf(known)) return hit.result;
    let opened: Awaited<ReturnType<typeof openRegularFile>>;
    try {
      opened = await openRegularFile(real);
    } catch {
      return { ok: false, problem: 'not a readable regular file' };
    }
    const { handle, size } = opened;
    try {
      const st = await handle.stat();
      const key = keyOf(st);
      if (hit && hit.key === key) return hit.result;
      this.reads++;
      const head = await readAt(handle, Math.min(size, SUMMARY_HEAD_BYTES), 0);
      const tailStart = Math.max(0, size - SUMMARY_TAIL_BYTES);
      const tail = await readAt(handle, size - tailStart, tailStart);
      const result = head.length < Math.min(size, SUMMARY_HEAD_BYTES) || tail.length < size - tailStart ? { ok: false as const, problem: 'the file shrank while it was read' } : summarizeEpisode(head, tail, size);
      this.cache.delete(real);
      if (st.mtimeMs < this.now() - RACY_MS) {
        if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(real, { key, result });
      }
      return result;
    } catch {
      return { ok: false, problem: 'unreadable file' };
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
}
