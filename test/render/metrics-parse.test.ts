/**
 * The viewer's incremental metrics.jsonl parser: lines split anywhere (UTF-8 included), the
 * half-written last line kept until complete, non-numeric values skipped and counted, hostile input
 * bounded (fuzzed in a child process under a memory cap).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CELLS, MAX_FIELDS, MAX_LINE_CHARS, MetricsParser, nonFiniteAsNull } from '../../src/render/app/metrics-parse.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npc-metrics-parse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const values = (p: MetricsParser, f: string): Array<[number, number]> => {
  const c = p.column(f)!;
  return Array.from(c.x, (x, i) => [x, c.y[i]!] as [number, number]).filter(([, y]) => !Number.isNaN(y));
};

describe('MetricsParser', () => {
  const text = ['{"step":100,"loss":0.5,"note":"é ✓ 🎯"}', '{"step":200,"loss":0.25,"eval_return":null}', '{"step":300,"loss":0.125,"eval_return":7}', ''].join('\n');

  it('gives the same columns however the bytes are split (every split point, multi-byte characters cut)', () => {
    const all = bytes(text);
    for (let cut = 0; cut <= all.length; cut++) {
      const p = new MetricsParser();
      p.push(all.subarray(0, cut));
      p.push(all.subarray(cut));
      expect(values(p, 'loss')).toEqual([[100, 0.5], [200, 0.25], [300, 0.125]]);
      expect(values(p, 'eval_return')).toEqual([[300, 7]]);
      expect(p.counts.get('note')).toEqual({ nonNumeric: 1, nulls: 0 });
      expect(p.badLines).toBe(0);
    }
  });

  it('keeps the half-written last line for the next push, and parses it only at end()', () => {
    const p = new MetricsParser();
    expect(p.push(bytes('{"step":1,"loss":1}\n{"step":2,"lo'))).toBe(1);
    expect(p.rows).toBe(1);
    expect(p.badLines).toBe(0);
    expect(p.push(bytes('ss":2}\n{"step":3,"loss":3}'))).toBe(1);
    expect(values(p, 'loss')).toEqual([[1, 1], [2, 2]]);
    // The writer died mid-line: the run ended, the rest is read as it is.
    expect(p.end()).toBe(1);
    expect(values(p, 'loss')).toEqual([[1, 1], [2, 2], [3, 3]]);
    const q = new MetricsParser();
    q.push(bytes('{"step":1,"loss":1}\n{"step":2,"lo'));
    expect(q.end()).toBe(0);
    expect(q.badLines).toBe(1);
  });

  it('skips and counts strings, booleans, objects, arrays, NaN and Infinity (bare or as text); counts nulls apart', () => {
    const p = new MetricsParser();
    p.push(bytes(['{"step":1,"loss":0.5}', '{"step":2,"loss":"high"}', '{"step":3,"loss":null}', '{"step":4,"loss":NaN,"acc":1}', '{"step":5,"loss":Infinity}', '{"step":6,"loss":-Infinity}', '{"step":7,"loss":{"v":1}}', '{"step":8,"loss":[1]}', '{"step":9,"loss":true}', '{"step":10,"loss":"NaN"}', 'garbage', '[1,2]', '42', '{"loss":9}', '{"step":11,"loss":0.25}', ''].join('\n')));
    expect(values(p, 'loss')).toEqual([[1, 0.5], [11, 0.25]]);
    // The bare-NaN line keeps its other values.
    expect(values(p, 'acc')).toEqual([[4, 1]]);
    expect(p.counts.get('loss')).toEqual({ nonNumeric: 8, nulls: 1 });
    expect(p.badLines).toBe(3);
    expect(p.noX).toBe(1);
    expect(p.xField).toBe('step');
  });

  it('rewrites bare NaN/Infinity only outside strings', () => {
    expect(nonFiniteAsNull('{"a":NaN,"b":"x: NaN,","c":-Infinity}')).toEqual({ text: '{"a":null,"b":"x: NaN,","c":null}', fields: ['a', 'c'] });
    expect(nonFiniteAsNull('{"a":1}')).toBeNull();
  });

  it('uses epoch (supervised runs) or the line number when there is no step, and notes x going back', () => {
    const e = new MetricsParser();
    e.push(bytes('{"epoch":1,"loss":2}\n{"epoch":2,"loss":1}\n'));
    expect(e.xField).toBe('epoch');
    expect(values(e, 'loss')).toEqual([[1, 2], [2, 1]]);
    const n = new MetricsParser();
    n.push(bytes('{"loss":2}\n\n{"loss":1}\n'));
    expect(n.xField).toBeNull();
    expect(values(n, 'loss')).toEqual([[0, 2], [1, 1]]);
    const b = new MetricsParser();
    b.push(bytes('{"step":5,"v":1}\n{"step":3,"v":2}\n'));
    expect(b.monotonic).toBe(false);
  });

  it('counts a line over the line limit once as unreadable and goes on after its newline', () => {
    const p = new MetricsParser();
    p.push(bytes('{"step":1,"v":1}\n'));
    const long = 'x'.repeat(MAX_LINE_CHARS + 10);
    for (let i = 0; i < 3; i++) p.push(bytes(long));
    p.push(bytes('still the long line\n{"step":2,"v":2}\n'));
    expect(p.badLines).toBe(1);
    expect(values(p, 'v')).toEqual([[1, 1], [2, 2]]);
  });

  it('keeps at most MAX_FIELDS numeric fields', () => {
    const p = new MetricsParser();
    const o: Record<string, number> = { step: 1 };
    for (let i = 0; i < MAX_FIELDS + 5; i++) o[`f${i}`] = i;
    p.push(bytes(JSON.stringify(o) + '\n'));
    expect(p.fields()).toHaveLength(MAX_FIELDS);
    expect(p.droppedFields).toBe(5);
  });
});

describe('MetricsParser under a memory cap', () => {
  it('hostile streams (an endless line, 4,000 fields a line, rows past MAX_CELLS, random bytes) stay within the cell bound', async () => {
    // The parser is browser code (not in dist/): bundle it for a child node with a capped heap.
    const esbuild = await import('esbuild');
    const out = join(tmp, 'parse.mjs');
    await esbuild.build({ entryPoints: [join(ROOT, 'src/render/app/metrics-parse.ts')], outfile: out, bundle: true, format: 'esm', platform: 'neutral', logLevel: 'error' });
    const script = `
      const { MetricsParser } = await import(${JSON.stringify('file://' + out)});
      const enc = new TextEncoder();
      const res = {};
      let peak = 0;
      const mem = () => { const m = process.memoryUsage(); peak = Math.max(peak, m.heapUsed + m.arrayBuffers); };
      // 1. One line of 256 MiB, in 64 KiB pieces.
      let p = new MetricsParser();
      const junk = enc.encode('a'.repeat(65536));
      for (let i = 0; i < 4096; i++) { p.push(junk); if (i % 256 === 0) mem(); }
      res.endless = { bad: p.badLines, rows: p.rows };
      // 2. Lines of 4,000 numeric fields each (under the line limit).
      p = new MetricsParser();
      const wide = '{"step":1,' + Array.from({ length: 4000 }, (_, i) => '"f' + i + '":' + i).join(',') + '}\\n';
      for (let i = 0; i < 200; i++) p.push(enc.encode(wide));
      mem();
      res.wide = { fields: p.fields().length, rows: p.rows };
      // 3. Rows until the cell bound: 64 fields a line.
      p = new MetricsParser();
      const row = (s) => '{"step":' + s + ',' + Array.from({ length: 63 }, (_, i) => '"g' + i + '":' + (s + i)).join(',') + '}\\n';
      let block = '';
      for (let s = 0; s < 1000; s++) block += row(s);
      const blockBytes = enc.encode(block);
      for (let i = 0; i < 560; i++) { p.push(blockBytes); if (i % 50 === 0) mem(); }
      mem();
      res.cells = { rows: p.rows, dropped: p.droppedLines, fields: p.fields().length };
      // 4. Random bytes with newlines.
      p = new MetricsParser();
      let seed = 1;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const buf = new Uint8Array(1 << 20);
      for (let k = 0; k < 32; k++) { for (let i = 0; i < buf.length; i++) buf[i] = rnd() < 0.01 ? 10 : rnd() < 0.5 ? 123 + (rnd() * 4 | 0) : rnd() * 256; p.push(buf); }
      p.end();
      res.random = { lines: p.lines, bad: p.badLines };
      res.peakMB = Math.round(peak / 1048576);
      console.log(JSON.stringify(res));`;
    const r = spawnSync(process.execPath, ['--max-old-space-size=192', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { endless: { bad: number; rows: number }; wide: { fields: number; rows: number }; cells: { rows: number; dropped: number; fields: number }; random: { lines: number; bad: number }; peakMB: number };
    expect(res.endless).toEqual({ bad: 1, rows: 0 });
    expect(res.wide).toEqual({ fields: MAX_FIELDS, rows: 200 });
    expect(res.cells.fields).toBe(63);
    expect(res.cells.rows).toBe(Math.floor(MAX_CELLS / 63));
    expect(res.cells.rows + res.cells.dropped).toBe(560_000);
    expect(res.random.bad).toBe(res.random.lines);
    // Cells are 4 bytes (+8 per row for x), columns grow by doubling: growth stops at the bound: 32 Mi cells are 128 MiB.
    expect(res.peakMB).toBeLessThan(300);
  });
});
