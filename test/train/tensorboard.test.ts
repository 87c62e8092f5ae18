/**
 * metrics.csv and TensorBoard event files: read back with our own reader (every record's CRCs checked), the
 * scalars equal metrics.jsonl's, also across a resume from an earlier checkpoint; damaged files
 * give one error, a torn tail is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { InvalidConfigError } from '../../src/errors.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { EVENT_FILE_PREFIX, crc32c, listEventFiles, maskedCrc32c, readEventFile, readRunScalars, type ScalarEvent } from '../../src/train/tensorboard.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-tensorboard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The scalars metrics.jsonl implies: every finite numeric field but `step`, as float32. */
function expectedScalars(runDir: string): Array<Omit<ScalarEvent, 'wallTime'>> {
  const out: Array<Omit<ScalarEvent, 'wallTime'>> = [];
  for (const l of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')) {
    const row = JSON.parse(l) as Record<string, unknown>;
    for (const [tag, v] of Object.entries(row)) if (tag !== 'step' && typeof v === 'number' && Number.isFinite(v)) out.push({ step: row.step as number, tag, value: Math.fround(v) });
  }
  return out;
}

const scalarsOf = (runDir: string) => readRunScalars(runDir).map(({ step, tag, value }) => ({ step, tag, value }));

const config = (steps: number) => resolveRunConfig({ game: 'catch', agent: 'ppo', file: { numSteps: 32 }, flags: { steps, envs: 2, seed: 4, evalEvery: 128, evalEpisodes: 2, checkpointEvery: 128, logEvery: 64 } });

/** metrics.csv as rows of strings keyed by its header, and what metrics.jsonl says they should be. */
function csvMatchesJsonl(runDir: string): void {
  const [header, ...rows] = readFileSync(join(runDir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(header!.slice(0, 4)).toEqual(['step', 'episodes', 'mean_return_100', 'eval_return']);
  expect(rows.length).toBe(lines.length);
  rows.forEach((r, i) => {
    const want = header!.map((c) => (lines[i]![c] === null || lines[i]![c] === undefined ? '' : JSON.stringify(lines[i]![c])));
    expect(r).toEqual(want);
  });
}

describe('CRC-32C', () => {
  it('matches the standard check value and TFRecord masking', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const c = crc32c(new Uint8Array([1, 2, 3]));
    expect(maskedCrc32c(new Uint8Array([1, 2, 3]))).toBe(((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
  });
});

describe('TensorBoard event files of a training run', () => {
  it('hold every numeric metrics.jsonl field as a scalar at its step; every record checks out', async () => {
    const res = await train({ config: config(512), outDir: tmp, progress: null });
    const files = listEventFiles(res.runDir);
    expect(files).toHaveLength(1);
    expect(files[0]!.split('/').at(-1)!.startsWith(EVENT_FILE_PREFIX)).toBe(true);
    const contents = readEventFile(files[0]!);
    expect(contents.fileVersion).toBe('brain.Event:2');
    expect(contents.tornTailBytes).toBe(0);
    const want = expectedScalars(res.runDir);
    expect(want.filter((s) => s.tag === 'eval_return').map((s) => s.step)).toEqual([128, 256, 384, 512]);
    expect(scalarsOf(res.runDir)).toEqual(want);
    // metrics.csv: the same lines, an empty eval_return cell between evaluations.
    csvMatchesJsonl(res.runDir);
    expect(readFileSync(join(res.runDir, 'metrics.csv'), 'utf8').split('\n')[1]).toMatch(/^64,\d+,[^,]*,,/);
  });

  it('a resume from an earlier checkpoint: TensorBoard semantics (SessionLog.START) give exactly the truncated metrics.jsonl', async () => {
    const first = await train({ config: config(384), outDir: tmp, progress: null });
    const resumed = await train({ config: config(512), resume: first.runDir, checkpoint: 128, steps: 512, progress: null });
    expect(resumed.step).toBe(512);
    expect(listEventFiles(first.runDir)).toHaveLength(2);
    // The second file starts with the resume marker at the step after the checkpoint.
    expect(readEventFile(listEventFiles(first.runDir)[1]!).events[0]).toEqual({ kind: 'start', step: 129 });
    expect(scalarsOf(first.runDir)).toEqual(expectedScalars(first.runDir));
    csvMatchesJsonl(first.runDir);
    // Without the marker the first file's steps 192..384 would be there twice.
    const raw = listEventFiles(first.runDir).flatMap((f) => readEventFile(f).events.filter((e) => e.kind === 'scalars').map((e) => e.step));
    expect(raw.filter((s) => s === 256)).toHaveLength(2);
  });

  it('damaged files: a flipped byte is one error naming the offset; a cut-off last record is a torn tail; random bytes never crash the reader', async () => {
    const res = await train({ config: config(256), outDir: tmp, progress: null });
    const file = listEventFiles(res.runDir)[0]!;
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 10]! ^= 0x40;
    const bad = join(tmp, `${EVENT_FILE_PREFIX}flipped`);
    writeFileSync(bad, flipped);
    expect(() => readEventFile(bad)).toThrow(/\[tensorboard\] expected TFRecord-framed Event records with valid CRCs, received a record whose data CRC does not match at byte \d+/);
    const cut = join(tmp, `${EVENT_FILE_PREFIX}cut`);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
    const c = readEventFile(cut);
    expect(c.tornTailBytes).toBeGreaterThan(0);
    expect(c.events.length).toBe(readEventFile(file).events.length - 1);
    // Mutations: any outcome is contents or our one error, nothing else.
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const fuzz = join(tmp, `${EVENT_FILE_PREFIX}fuzz`);
    for (let k = 0; k < 300; k++) {
      const m = Buffer.from(bytes.subarray(0, Math.floor(rand() * bytes.length) + 1));
      for (let j = 0; j < 3; j++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      writeFileSync(fuzz, m);
      try {
        readEventFile(fuzz);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidConfigError);
      }
    }
  });
});

describe('event reader under a memory cap', () => {
  it('a 2 GiB sparse file, a record claiming 16 MiB then cut, and a claimed 2^60-byte record: each ends in a named result, heap capped at 64 MB', () => {
    const sparse = join(tmp, `${EVENT_FILE_PREFIX}sparse`);
    writeFileSync(sparse, '');
    truncateSync(sparse, 2 ** 31);
    const header = (len: bigint): Buffer => {
      const h = Buffer.alloc(12);
      h.writeBigUInt64LE(len, 0);
      h.writeUInt32LE(maskedCrc32c(h.subarray(0, 8)), 8);
      return h;
    };
    const cut = join(tmp, `${EVENT_FILE_PREFIX}claims16m`);
    writeFileSync(cut, Buffer.concat([header(16n * 1024n * 1024n), Buffer.alloc(1000)]));
    const huge = join(tmp, `${EVENT_FILE_PREFIX}huge`);
    writeFileSync(huge, Buffer.concat([header(2n ** 60n), Buffer.alloc(100)]));
    const script = `
      const { readEventFile } = await import(${JSON.stringify(new URL('../../dist/src/train/tensorboard.js', import.meta.url).href)});
      const out = [];
      for (const f of ${JSON.stringify([sparse, cut, huge])}) {
        try { const c = readEventFile(f); out.push('ok torn=' + c.tornTailBytes + ' events=' + c.events.length); }
        catch (e) { out.push(e.constructor.name + ': ' + e.message.slice(0, 300)); }
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const [a, b, c] = JSON.parse(r.stdout) as string[];
    // Zeros: length 0 with a CRC of 0 that does not match the masked CRC of 8 zero bytes.
    expect(a).toMatch(/^InvalidConfigError: \[tensorboard\] expected TFRecord-framed Event records with valid CRCs, received a length whose CRC does not match at byte 0/);
    expect(b).toBe(`ok torn=${12 + 1000} events=0`);
    expect(c).toMatch(/^InvalidConfigError: .*a record of 1152921504606846976 bytes \(at most 16777216\) at byte 0/);
  });
});
