/**
 * The supervised run page's server side: run.json and evaluation.json are untrusted (bounded
 * reads, regular files only, one short problem line per bad file, nothing of the file quoted).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSupervisedView } from '../../src/render/supervised-files.js';
import { checkEvaluationJson, checkRunJson, MAX_SUPERVISED_FILE_BYTES, ViewProblem } from '../../src/render/supervised-view.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcview-supv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SECRET = 'TOP-SECRET-CONTENT';

const RUN = { format: 'npcforge-supervised-run', version: 1, task: 'image', model: 'cnn', classes: ['a', 'b'], trainSamples: 8, validationSamples: 2, bestEpoch: 2, stoppedEarly: false, complete: true, history: [{ epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1.1, valAccuracy: 0.5, seconds: 1 }, { epoch: 2, loss: 0.5, accuracy: 0.75, valLoss: null, valAccuracy: null, seconds: 1 }] };
const EVAL = {
  data: '/x',
  accuracy: 0.75,
  samples: 4,
  classes: ['a', 'b'],
  per_class: { a: { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 }, b: { precision: 2 / 3, recall: 1, f1: 0.8, support: 2 } },
  confusion: [[1, 1], [0, 2]],
  misclassified: [{ index: 1, true: 'a', predicted: 'b', confidence: 0.9, file: 'a/1.png', image: { width: 2, height: 1, channels: 1, pixels: Buffer.from([0, 255]).toString('base64') } }],
};

/** readSupervisedView of a folder that has a run.json: never null. */
async function view(dir: string): Promise<NonNullable<Awaited<ReturnType<typeof readSupervisedView>>>> {
  const v = await readSupervisedView(tmp, dir);
  if (v === null) throw new Error('no run.json');
  return v;
}

function runFolder(name: string, files: Record<string, string | null>): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) if (text !== null) writeFileSync(join(dir, f), text);
  return dir;
}

describe('supervised run view', () => {
  it('reads run.json and evaluation.json into one checked object', async () => {
    const dir = runFolder('good', { 'run.json': JSON.stringify(RUN), 'evaluation.json': JSON.stringify(EVAL) });
    const v = await view(dir);
    expect(v).toMatchObject({ task: 'image', classes: ['a', 'b'], bestEpoch: 2, problems: [] });
    if ('error' in v) throw new Error(v.error);
    expect(v.history[1]).toEqual({ epoch: 2, loss: 0.5, accuracy: 0.75, valLoss: null, valAccuracy: null });
    expect(v.evaluation!.confusion).toEqual([[1, 1], [0, 2]]);
    expect(v.evaluation!.perClass.map((c) => c.name)).toEqual(['a', 'b']);
    expect(v.evaluation!.misclassified[0]).toEqual({ index: 1, true: 'a', predicted: 'b', confidence: 0.9, file: 'a/1.png', text: null, image: EVAL.misclassified[0]!.image });
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a confusion matrix of the wrong size', { confusion: [[1, 1]] }, /a 2 x 2 confusion matrix of counts/],
    ['negative counts', { confusion: [[1, -1], [0, 2]] }, /a 2 x 2 confusion matrix of counts/],
    ['other classes', { classes: ['a', SECRET] }, /the run's classes, in the same order/],
    ['a class missing in per_class', { per_class: { a: EVAL.per_class.a } }, /precision, recall, f1 and support for every class/],
    ['an example of an unknown class', { misclassified: [{ index: 0, true: SECRET, predicted: 'a' }] }, /a true and predicted class of the run/],
    ['image pixels of the wrong length', { misclassified: [{ index: 0, true: 'a', predicted: 'b', image: { width: 64, height: 64, channels: 1, pixels: 'AAAA' } }] }, /image pixels as base64/],
    ['a huge image', { misclassified: [{ index: 0, true: 'a', predicted: 'b', image: { width: 1e6, height: 1e6, channels: 3, pixels: '' } }] }, /1 to 128 pixels a side/],
    ['an accuracy of 2', { accuracy: 2 }, /accuracy in \[0, 1\]/],
  ];
  for (const [name, over, message] of bad) {
    it(`evaluation.json with ${name}: the run still shows, with one problem line`, async () => {
      const dir = runFolder(`bad-${name.replace(/\W+/g, '-')}`, { 'run.json': JSON.stringify(RUN), 'evaluation.json': JSON.stringify({ ...EVAL, ...over }) });
      const v = await view(dir);
      if ('error' in v) throw new Error(v.error);
      expect(v.evaluation).toBeNull();
      expect(v.problems).toEqual([expect.stringMatching(message)]);
      expect(v.problems[0]).toMatch(/^evaluation\.json: expected /);
      expect(JSON.stringify(v)).not.toContain(SECRET);
    });
  }

  it('while fit runs, the epochs come from metrics.jsonl (ahead of run.json); bad and half-written lines are skipped', async () => {
    const line = (epoch: number): string => JSON.stringify({ epoch, loss: 1 / epoch, accuracy: 0.5, valLoss: 1.2 / epoch, valAccuracy: 0.4, seconds: 1 });
    const metrics = [line(1), 'not json', line(2), JSON.stringify({ epoch: 9, loss: [SECRET], accuracy: 0 }), '{"epoch":4,"loss":"x","accuracy":0}', line(3), line(4).slice(0, 20)].join('\n');
    const dir = runFolder('running', { 'run.json': JSON.stringify({ ...RUN, history: RUN.history.slice(0, 1), complete: false }), 'metrics.jsonl': metrics });
    const v = await view(dir);
    if ('error' in v) throw new Error(v.error);
    expect(v.history.map((h) => [h.epoch, h.loss, h.valLoss])).toEqual([[1, 1, 1.2], [2, 0.5, 0.6], [3, 1 / 3, 1.2 / 3]]);
    expect(v.complete).toBe(false);
    // A metrics.jsonl behind run.json (or none) leaves run.json's history.
    const behind = runFolder('behind', { 'run.json': JSON.stringify(RUN), 'metrics.jsonl': line(1) });
    expect((await view(behind) as { history: unknown[] }).history).toHaveLength(2);
  });

  it('a long text is cut; the other checks reject bad run.json fields by name', () => {
    const long = checkEvaluationJson({ ...EVAL, misclassified: [{ index: 0, true: 'a', predicted: 'b', text: 'x'.repeat(5000) }] }, ['a', 'b']);
    expect(long.misclassified[0]!.text).toHaveLength(2003);
    expect(() => checkRunJson({ ...RUN, format: SECRET })).toThrow(ViewProblem);
    expect(() => checkRunJson({ ...RUN, classes: [] })).toThrow(/1 to 256 class names/);
    expect(() => checkRunJson({ ...RUN, history: [{ epoch: 1, loss: 'NaN', accuracy: 0 }] })).toThrow(/history entries/);
  });

  it('hostile files: missing, not JSON, half-written, FIFO, /dev/zero, sparse gigabytes, symlink out of the root', async () => {
    const cases: Array<[string, (dir: string) => void, RegExp]> = [
      ['run.json not JSON', (d) => writeFileSync(join(d, 'run.json'), `${SECRET} {`), /^run\.json: not valid JSON \(\d+ bytes; half-written\?\)$/],
      ['run.json half-written', (d) => writeFileSync(join(d, 'run.json'), JSON.stringify(RUN).slice(0, 40)), /^run\.json: not valid JSON/],
      ['run.json a FIFO', (d) => execFileSync('mkfifo', [join(d, 'run.json')]), /^run\.json: not a regular file$/],
      ['run.json sparse 4 GiB', (d) => (writeFileSync(join(d, 'run.json'), ''), truncateSync(join(d, 'run.json'), 4 * 1024 ** 3)), new RegExp(`^run\\.json: larger than ${MAX_SUPERVISED_FILE_BYTES} bytes \\(4294967296\\)$`)],
      ['run.json of another format', (d) => writeFileSync(join(d, 'run.json'), JSON.stringify({ ...RUN, format: SECRET })), /^run\.json: expected format 'npcforge-supervised-run'$/],
    ];
    for (const [name, make, message] of cases) {
      const dir = runFolder(`hostile-${name.replace(/\W+/g, '-')}`, {});
      make(dir);
      const v = await view(dir);
      expect('error' in v && v.error, name).toMatch(message);
      expect(JSON.stringify(v)).not.toContain(SECRET);
    }
    // No run.json, or one leading out of the served folder: not a supervised run (the server answers 404).
    expect(await readSupervisedView(tmp, runFolder('no-run-json', {}))).toBeNull();
    const linked = runFolder('run-json-dev-zero', {});
    symlinkSync('/dev/zero', join(linked, 'run.json'));
    expect(await readSupervisedView(tmp, linked)).toBeNull();
    const half = runFolder('eval-half', { 'run.json': JSON.stringify(RUN), 'evaluation.json': JSON.stringify(EVAL).slice(0, 50) });
    const v = await view(half);
    expect(!('error' in v) && v.problems).toEqual([expect.stringMatching(/^evaluation\.json: not valid JSON/)]);
  });

  it('hostile run.json / evaluation.json under a memory cap (child process, 128 MB heap): never throws, one short line each', () => {
    const dirs: string[] = [];
    const big = (n: number, unit: string): string => unit.repeat(Math.floor(n / unit.length));
    const files: Array<[string, string, string]> = [
      // Valid JSON nested 3.5 million levels: JSON.parse alone runs a 128 MB heap out of memory (a fatal crash).
      ['deep arrays', big(3.5 * 1024 * 1024, '[') + big(3.5 * 1024 * 1024, ']'), ''],
      ['deep objects', big(7 * 1024 * 1024, '{"a":'), ''],
      ['deep evaluation', JSON.stringify(RUN), big(3.5 * 1024 * 1024, '[') + big(3.5 * 1024 * 1024, ']')],
      ['a huge confusion matrix', JSON.stringify(RUN), JSON.stringify({ ...EVAL, confusion: Array.from({ length: 2 }, () => new Array(500_000).fill(1)) })],
      ['millions of numbers', `{"format":"npcforge-supervised-run","version":1,"history":[${big(7 * 1024 * 1024, '0,')}0]}`, ''],
      ['brackets inside strings', JSON.stringify({ ...RUN, task: '['.repeat(100) }), JSON.stringify(EVAL)],
      ['the good pair', JSON.stringify(RUN), JSON.stringify(EVAL)],
    ];
    for (const [name, run, ev] of files) {
      const dir = runFolder(`fuzz-${name.replace(/\W+/g, '-')}`, { 'run.json': run, ...(ev ? { 'evaluation.json': ev } : {}) });
      dirs.push(dir);
    }
    const list = join(tmp, 'fuzz-list.json');
    writeFileSync(list, JSON.stringify(dirs));
    const child = spawnSync(process.execPath, ['--max-old-space-size=128', join(import.meta.dirname, 'summary-fuzz-child.mjs'), 'supervised', list], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 24 });
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; ok: boolean; problem?: string; threw?: string });
    expect(lines.map((l) => [l.ok, l.problem ?? null])).toEqual([
      [false, 'run.json: nested deeper than 32 levels'],
      [false, 'run.json: nested deeper than 32 levels'],
      [false, 'evaluation.json: nested deeper than 32 levels'],
      [false, 'evaluation.json: expected a 2 x 2 confusion matrix of counts'],
      [false, 'run.json: expected task and model names'],
      // Brackets inside strings do not count as nesting.
      [true, null],
      [true, null],
    ]);
  });
});
