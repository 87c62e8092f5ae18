/**
 * TensorBoard event files (`events.out.tfevents.*`) beside `metrics.jsonl`, so TensorBoard (and
 * anything that reads its format) shows a run's scalars. The format: TFRecord framing (uint64
 * little-endian length, masked CRC-32C of the length, the bytes, masked CRC-32C of the bytes) around
 * `Event` protobufs (tensorflow/core/util/event.proto): the first event names the file version,
 * then one event per metrics line with a `Summary` of `simple_value`s, one per numeric field.
 * Protobuf encoding is protobufjs's (a JSON description of the three messages; no .proto parsing).
 *
 * Resume: a resumed run opens a new file whose first event after the version is a
 * `SessionLog.START` at the first step after the checkpoint. TensorBoard then drops the scalars of
 * earlier files from that step on, as `truncateMetrics` drops those lines of metrics.jsonl.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { InvalidConfigError, describe, formatError } from '../errors.js';
import { writeRunFile } from './run-folder.js';

/** Prefix of every event file; TensorBoard loads the files whose names contain `tfevents`. */
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';
const FILE_VERSION = 'brain.Event:2';
/** Largest record the reader accepts (a metrics event is a few hundred bytes). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        // Field numbers and types as in TensorFlow's event.proto and summary.proto.
        Event: {
          oneofs: { what: { oneof: ['fileVersion', 'summary', 'sessionLog'] } },
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            summary: { type: 'Summary', id: 5 },
            sessionLog: { type: 'SessionLog', id: 6 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: { fields: { tag: { type: 'string', id: 1 }, simpleValue: { type: 'float', id: 2 } } },
          },
        },
        SessionLog: {
          fields: { status: { type: 'Status', id: 1 }, checkpointPath: { type: 'string', id: 2 }, msg: { type: 'string', id: 3 } },
          nested: { Status: { values: { STATUS_UNSPECIFIED: 0, START: 1, STOP: 2, CHECKPOINT: 3 } } },
        },
      },
    },
  },
});
const EventType = root.lookupType('tensorboard.Event');

// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), table-driven.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits, add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function frame(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

function encodeEvent(e: { wallTime: number; step: number; fileVersion?: string; summary?: Record<string, number>; start?: boolean }): Buffer {
  const msg: Record<string, unknown> = { wallTime: e.wallTime, step: e.step };
  if (e.fileVersion !== undefined) msg.fileVersion = e.fileVersion;
  if (e.summary) msg.summary = { value: Object.entries(e.summary).map(([tag, simpleValue]) => ({ tag, simpleValue })) };
  if (e.start) msg.sessionLog = { status: 1 };
  return frame(EventType.encode(EventType.fromObject(msg)).finish());
}

/** Appends a run's scalars to one event file of the run folder. */
export class TensorBoardWriter {
  readonly path: string;

  /**
   * Opens a new event file in `runDir` (named as TensorBoard names them: the Unix time, the host,
   * then milliseconds so a resume within the same second sorts after the file it continues).
   * `resumedAt`: the checkpoint step a resumed run continues from.
   */
  constructor(runDir: string, options: { now?: () => number; resumedAt?: number } = {}) {
    const now = options.now ?? Date.now;
    const ms = now();
    const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
    let path = join(runDir, `${EVENT_FILE_PREFIX}${Math.floor(ms / 1000)}.${host}.${String(ms).padStart(15, '0')}`);
    for (let k = 1; existsSync(path); k++) path = join(runDir, `${EVENT_FILE_PREFIX}${Math.floor(ms / 1000)}.${host}.${String(ms).padStart(15, '0')}-${k}`);
    this.path = path;
    const head = [encodeEvent({ wallTime: ms / 1000, step: 0, fileVersion: FILE_VERSION })];
    if (options.resumedAt !== undefined) head.push(encodeEvent({ wallTime: ms / 1000, step: options.resumedAt + 1, start: true }));
    this.write(() => writeFileSync(this.path, Buffer.concat(head), { flag: 'wx' }));
  }

  /** One event at `step` with a scalar per finite numeric field (`step` itself excluded). */
  scalars(step: number, wallTimeS: number, fields: Record<string, unknown>): void {
    const summary: Record<string, number> = {};
    for (const [k, v] of Object.entries(fields)) if (k !== 'step' && typeof v === 'number' && Number.isFinite(v)) summary[k] = v;
    this.write(() => appendFileSync(this.path, encodeEvent({ wallTime: wallTimeS, step, summary })));
  }

  private write(fn: () => void): void {
    writeRunFile('tensorboard', `write ${JSON.stringify(this.path)}`, fn);
  }
}

/** One scalar read back from event files. */
export interface ScalarEvent {
  step: number;
  wallTime: number;
  tag: string;
  value: number;
}

/** What `readEventFile` found: the events in order, and whether the file ended in a torn record. */
export interface EventFileContents {
  fileVersion: string | null;
  /** Steps of `SessionLog.START` events (resumes), in file order, each at its position among the scalars. */
  events: Array<{ kind: 'scalars'; step: number; wallTime: number; values: Array<{ tag: string; value: number }> } | { kind: 'start'; step: number }>;
  /** Bytes at the end that do not form a whole record (a write cut short by a crash). */
  tornTailBytes: number;
}

/**
 * Reads one event file record by record (memory bounded by the largest record, whatever the file's
 * size), checking both CRCs of every record. Untrusted input: lengths are bounded, a bad CRC or an
 * undecodable event is one error naming the record's offset; a short last record is reported as a
 * torn tail (a write cut short by a crash), which TensorBoard skips too.
 */
export function readEventFile(path: string): EventFileContents {
  const st = statSync(path);
  if (!st.isFile()) throw new InvalidConfigError(formatError('tensorboard', 'a regular event file', `${describe(path)} (not a regular file)`, 'pass an events.out.tfevents.* file of a run'));
  const out: EventFileContents = { fileVersion: null, events: [], tornTailBytes: 0 };
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(12);
    let at = 0;
    const bad = (what: string): never => {
      throw new InvalidConfigError(formatError('tensorboard', 'TFRecord-framed Event records with valid CRCs', `${what} at byte ${at} of ${describe(path)}`, 'the file is damaged; TensorBoard would stop reading it there too'));
    };
    const readAt = (buf: Buffer, pos: number): number => {
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    };
    while (at < size) {
      if (readAt(head, at) < 12) {
        out.tornTailBytes = size - at;
        break;
      }
      if (head.readUInt32LE(8) !== maskedCrc32c(head.subarray(0, 8))) bad('a length whose CRC does not match');
      const lenBig = head.readBigUInt64LE(0);
      if (lenBig > BigInt(MAX_RECORD_BYTES)) bad(`a record of ${lenBig} bytes (at most ${MAX_RECORD_BYTES})`);
      const len = Number(lenBig);
      if (size - at < 12 + len + 4) {
        out.tornTailBytes = size - at;
        break;
      }
      const body = Buffer.alloc(len + 4);
      if (readAt(body, at + 12) < len + 4) {
        out.tornTailBytes = size - at;
        break;
      }
      const data = body.subarray(0, len);
      if (body.readUInt32LE(len) !== maskedCrc32c(data)) bad('a record whose data CRC does not match');
      let ev: Record<string, any> = {};
      try {
        ev = EventType.toObject(EventType.decode(data), { longs: Number, defaults: false }) as Record<string, any>;
      } catch (err) {
        bad(`an undecodable Event (${(err as Error).message.slice(0, 80)})`);
      }
      const step = typeof ev.step === 'number' ? ev.step : 0;
      if (typeof ev.fileVersion === 'string') out.fileVersion = ev.fileVersion;
      else if (ev.sessionLog?.status === 1) out.events.push({ kind: 'start', step });
      else if (ev.summary) {
        const values = ((ev.summary.value ?? []) as Array<{ tag?: string; simpleValue?: number }>).map((v) => ({ tag: v.tag ?? '', value: v.simpleValue ?? 0 }));
        out.events.push({ kind: 'scalars', step, wallTime: typeof ev.wallTime === 'number' ? ev.wallTime : 0, values });
      }
      at += 12 + len + 4;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The event files of a run folder, in the order TensorBoard reads them (by name). */
export function listEventFiles(runDir: string): string[] {
  return readdirSync(runDir)
    .filter((f) => f.startsWith(EVENT_FILE_PREFIX))
    .sort()
    .map((f) => join(runDir, f));
}

/**
 * Every scalar of a run's event files as TensorBoard shows them: files in name order, and a
 * `SessionLog.START` at step s drops the scalars read before it at steps >= s (a resume).
 */
export function readRunScalars(runDir: string): ScalarEvent[] {
  let out: ScalarEvent[] = [];
  for (const file of listEventFiles(runDir)) {
    for (const e of readEventFile(file).events) {
      if (e.kind === 'start') out = out.filter((s) => s.step < e.step);
      else for (const v of e.values) out.push({ step: e.step, wallTime: e.wallTime, tag: v.tag, value: v.value });
    }
  }
  return out;
}
