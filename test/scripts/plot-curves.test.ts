/** scripts/plot-curves.mjs: curves from metrics.jsonl files into a PNG for docs/results.md. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without type declarations
import { curveSvg, meanBand, readCurve } from '../../scripts/plot-curves.mjs';

const root = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-plot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(name: string, rows: string[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), rows.join('\n'));
  return dir;
}

describe('plot-curves', () => {
  it('reads the rows where the metric was measured and skips a torn last line', () => {
    const dir = run('a', ['{"step":100,"eval_return":1}', '{"step":200,"loss":0.5}', '{"step":300,"eval_return":null}', '{"step":400,"eval_return":3}', '{"step":5']);
    expect(readCurve(dir, 'eval_return')).toEqual([[100, 1], [400, 3]]);
    // A folder where the file should be is refused by name, not read.
    mkdirSync(join(tmp, 'd', 'metrics.jsonl'), { recursive: true });
    expect(() => readCurve(join(tmp, 'd'), 'eval_return')).toThrow(/regular metrics\.jsonl of at most 512 MiB/);
  });

  it('draws one line per run, a legend and the reference lines', () => {
    const svg: string = curveSvg({ series: [{ label: 'seed 0', points: [[0, 0], [10, 1]] }, { label: 'seed 1', points: [[0, 1], [10, 2]] }], refs: [{ label: 'paper', value: 1.5 }], title: 't' });
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('>seed 1<');
    expect(svg).toContain('stroke-dasharray');
    expect(() => curveSvg({ series: [{ label: 'x', points: [] }] })).toThrow(/no points/);
  });

  it('writes an 800x450 PNG with the curves drawn in their colours', async () => {
    const a = run('b', Array.from({ length: 20 }, (_, i) => JSON.stringify({ step: i * 1000, eval_return: i })));
    const out = join(tmp, 'c.png');
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'plot-curves.mjs'), '--out', out, '--title', 'test', '--ref', 'goal=10', `run=${a}`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('run: 20 points');
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([800, 450]);
    // The first series' colour (#1f77b4) is on the image.
    let blue = 0;
    for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i]! - 0x1f) < 30 && Math.abs(data[i + 1]! - 0x77) < 30 && Math.abs(data[i + 2]! - 0xb4) < 30) blue++;
    expect(blue).toBeGreaterThan(200);
    const bad = spawnSync(process.execPath, [join(root, 'scripts', 'plot-curves.mjs'), '--out', out, 'no-label'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('draws several seeds of one label as their mean with a min-max band at the steps all of them logged', () => {
    const m = meanBand([[[0, 1], [10, 3], [20, 5]], [[0, 3], [10, 5]], [[0, 2], [10, 1], [20, 9]]]);
    expect(m.n).toBe(3);
    expect(m.points).toEqual([[0, 2], [10, 3]]);
    expect(m.band).toEqual([[0, 1, 3], [10, 1, 5]]);
    expect(meanBand([[[0, 1]]])).toEqual({ points: [[0, 1]], band: null, n: 1 });
    const svg: string = curveSvg({ series: [{ label: 'ppo', points: m.points, band: m.band }] });
    expect(svg.match(/class="band"/g)).toHaveLength(1);
  });

  it('keeps only multiples of --every and labels a multi-run series with its run count', () => {
    const rows = (k: number) => Array.from({ length: 10 }, (_, i) => JSON.stringify({ step: i * 50, eval_return: i + k }));
    const a = run('e1', rows(0));
    const b = run('e2', rows(2));
    const out = join(tmp, 'e.svg');
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'plot-curves.mjs'), '--out', out, '--every', '100', `ppo=${a},${b}`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ppo (mean of 2, min-max band): 5 points');
  });
});
