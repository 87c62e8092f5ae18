/**
 * What an episode list shows of a `.npcep` file without reading it whole: the header (first
 * record: game, seed, agents) and the end record (last record: steps, return, end flags), decoded
 * from the first and the last bytes of the file. Browser-safe; the server's file access lives in
 * src/render/episode-summaries.ts. Nothing here quotes the file's contents in a problem string.
 */
import { Unpackr } from 'msgpackr';
import { UnsupportedVersionError } from '../../errors.js';
import { MAX_EPISODE_STEPS, msgpackExtent, type EpisodeHeader } from './format.js';
import { checkHeader } from './reader.js';

/** Bytes read from the start of a file for its header (a header with game states fits in far less). */
export const SUMMARY_HEAD_BYTES = 256 * 1024;
/**
 * Bytes read from the end of a file for its end record: the record is a map of 7 short fields
 * (about 70 bytes); the rest is room to find where it starts.
 */
export const SUMMARY_TAIL_BYTES = 512;
/** Most msgpack values of the end record (7 keys and 7 values). */
const END_VALUES = 16;

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** One episode as the list shows it. */
export interface EpisodeSummary {
  game: string;
  seed: number | null;
  /** Steps of the episode (its length). */
  steps: number;
  /** Sum of the rewards (the learner's in a multi-agent episode). */
  return: number;
  terminated: boolean;
  truncated: boolean;
  /** Number of agents (multi-agent episodes only). */
  agents?: number;
}

/** The summary, or a short problem (one line, no file contents) when the file is not a whole episode. */
export type EpisodeSummaryResult = { ok: true; summary: EpisodeSummary } | { ok: false; problem: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Decodes the header record at the start of `head` (the first bytes of the file, or all of them). */
function headerOf(head: Uint8Array, fileSize: number): EpisodeHeader | string {
  if (fileSize === 0) return 'empty file';
  const { end, values } = msgpackExtent(head, 0, 1 << 16);
  if (values > 1 << 16) return 'not an npcforge episode (header too large)';
  if (end < 0) return head.length < fileSize ? `not an npcforge episode (no header in the first ${head.length} bytes)` : 'not an npcforge episode (truncated header)';
  let v: unknown;
  try {
    v = unpackr.unpack(head.subarray(0, end));
  } catch {
    return 'not an npcforge episode (undecodable header)';
  }
  if (!isObj(v) || v.format !== 'npcforge-episode') return 'not an npcforge episode';
  try {
    return checkHeader(v, undefined);
  } catch (err) {
    return err instanceof UnsupportedVersionError ? 'unsupported episode version (upgrade npcforge)' : 'invalid episode header';
  }
}

/**
 * The end record ending exactly at the end of `tail` (the last bytes of the file). Candidates are
 * tried from the end backwards: the record holds no nested map, so the first map that decodes to
 * the end of the file with `kind: 'end'` is the record itself.
 */
function endOf(tail: Uint8Array): Record<string, unknown> | null {
  for (let pos = tail.length - 1; pos >= 0; pos--) {
    const b = tail[pos]!;
    if (!((b >= 0x80 && b <= 0x8f) || b === 0xde)) continue;
    const { end, values } = msgpackExtent(tail, pos, END_VALUES);
    if (end !== tail.length || values > END_VALUES) continue;
    let v: unknown;
    try {
      v = unpackr.unpack(tail.subarray(pos));
    } catch {
      continue;
    }
    if (isObj(v) && v.kind === 'end') return v;
  }
  return null;
}

/**
 * Summarises an episode file from its first bytes (`head`, at most SUMMARY_HEAD_BYTES) and its
 * last bytes (`tail`, at most SUMMARY_TAIL_BYTES); `fileSize` is the whole file's size. Checks
 * the header as the reader does and the end record's fields, not the chunks in between (the
 * reader does that when the episode is opened).
 */
export function summarizeEpisode(head: Uint8Array, tail: Uint8Array, fileSize: number): EpisodeSummaryResult {
  const header = headerOf(head, fileSize);
  if (typeof header === 'string') return { ok: false, problem: header };
  const end = endOf(tail);
  if (!end) return { ok: false, problem: 'no end record (the recording did not finish or the file was cut)' };
  const { steps, frames, chunks } = end;
  const ints = Number.isInteger(steps) && (steps as number) >= 0 && (steps as number) <= MAX_EPISODE_STEPS && frames === (steps as number) + 1 && Number.isInteger(chunks) && (chunks as number) >= 1;
  if (!ints || typeof end.return !== 'number' || !Number.isFinite(end.return) || typeof end.terminated !== 'boolean' || typeof end.truncated !== 'boolean') return { ok: false, problem: 'invalid end record' };
  const summary: EpisodeSummary = { game: header.game.id, seed: header.seed, steps: steps as number, return: end.return, terminated: end.terminated, truncated: end.truncated };
  if (header.agents) summary.agents = header.agents.length;
  return { ok: true, summary };
}
