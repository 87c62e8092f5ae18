import sharp from 'sharp';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'npcforge-fitcli-'));
const runDir = join(root, 'run');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = runCli;

beforeAll(async () => {
  // Two classes of three tiny images: dark and bright.
  for (const [c, value] of [['dark', 20], ['bright', 230]] as const) {
    mkdirSync(join(root, 'data', 'train', c), { recursive: true });
    for (let i = 0; i < 3; i++) {
      await sharp(Buffer.alloc(16, value + i), { raw: { width: 4, height: 4, channels: 1 } }).png().toFile(join(root, 'data', 'train', c, `${i}.png`));
    }
  }
});

describe('npcforge fit --json', () => {
  it('prints the result as one JSON object on stdout, the human lines on stderr', async () => {
    const r = await cli(['fit', 'image', '--data', join(root, 'data'), '--epochs', '1', '--batch-size', '2', '--val', '0.34', '--out', runDir, '--json']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(report).toMatchObject({ run: runDir, task: 'image', model: 'cnn', classes: ['bright', 'dark'], epochs: 1, bestEpoch: 1, stoppedEarly: false });
    expect(report.trainSamples + report.validationSamples).toBe(6);
    expect(report.best.epoch).toBe(1);
    expect(r.err).toContain(`run: ${runDir}`);
    expect(existsSync(join(runDir, 'run.json'))).toBe(true);
  });

  it('`predict <image run> notes.txt` says the file is the wrong type, not a broken image', async () => {
    const notes = join(root, 'notes.txt');
    writeFileSync(notes, 'shopping list');
    const a = await cli(['predict', runDir, notes]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^npcforge: \[npcforge predict\] expected an image file \(\.png, \.jpg, \.jpeg\) for this image run, received a \.txt file ".*notes\.txt"; fix: pass an image file \(\.png, \.jpg, \.jpeg\)\n$/);
    const b = await cli(['predict', runDir, join(root, 'missing.png')]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/expected an existing image file .*missing\.png", which does not exist/);
    mkdirSync(join(root, 'dir.png'));
    const c = await cli(['predict', runDir, join(root, 'dir.png')]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/expected a regular file, received a folder at .*dir\.png/);
    // The input is a file the user named, not a data folder's sample: the fix says what to pass.
    expect(c.err).toMatch(/; fix: pass an image file \(\.png, \.jpg, \.jpeg\)\n$/);
    const ok = await cli(['predict', runDir, join(root, 'data', 'train', 'dark', '0.png'), '--json']);
    expect(ok.code).toBe(0);
    expect(Object.keys(JSON.parse(ok.out).probabilities).sort()).toEqual(['bright', 'dark']);
  });
});

describe('npcforge fit --out <existing run>', () => {
  it('refuses to replace a run unless --force, which also removes the stale evaluation.json', async () => {
    const out = join(root, 'twice');
    const args = ['fit', 'image', '--data', join(root, 'data'), '--epochs', '1', '--batch-size', '2', '--val', '0.34', '--out', out, '--quiet'];
    expect((await cli(args)).code).toBe(0);
    writeFileSync(join(out, 'evaluation.json'), '{"accuracy": 1}');
    const before = readFileSync(join(out, 'run.json'), 'utf8');
    const refused = await cli(args);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^npcforge: \[npcforge fit\] expected --out naming a new or empty folder, received .*twice, which holds an existing run; fix: pass another --out, or add --force to replace it\n$/);
    // Refused before anything was written: the old run is untouched.
    expect(readFileSync(join(out, 'run.json'), 'utf8')).toBe(before);
    expect(existsSync(join(out, 'evaluation.json'))).toBe(true);
    const forced = await cli([...args, '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(existsSync(join(out, 'evaluation.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).createdAt).not.toBe(JSON.parse(before).createdAt);
  }, 120_000);

  it('an empty --out folder is fine without --force', async () => {
    const out = join(root, 'empty');
    mkdirSync(out);
    expect((await cli(['fit', 'image', '--data', join(root, 'data'), '--epochs', '1', '--batch-size', '2', '--val', '0.34', '--out', out, '--quiet'])).code).toBe(0);
    expect(existsSync(join(out, 'run.json'))).toBe(true);
  }, 120_000);
});

describe('npcforge evaluate / predict on a folder that is not a good run', () => {
  // The run folder is untrusted: a FIFO as run.json hung the CLI, and a parse error quoted the file's text.
  it.each([
    ['a run.json that is not JSON', (dir: string) => writeFileSync(join(dir, 'run.json'), 'secret-token-abc hello'), /expected a readable JSON file, received .*run\.json\W*: invalid JSON/],
    ['a FIFO named run.json', (dir: string) => execFileSync('mkfifo', [join(dir, 'run.json')]), /expected a regular file of at most \d+ bytes, received .*run\.json\W* that is not a regular file/],
    ['no run.json (a folder of npcforge train)', (_dir: string) => {}, /received .*run\.json\W*: ENOENT/],
  ])('%s: one line, exit 2, nothing of the file quoted', async (name, make, message) => {
    const dir = join(root, `bad-${name.replace(/\W+/g, '-')}`);
    mkdirSync(dir);
    make(dir);
    for (const argv of [['evaluate', dir], ['predict', dir, 'some text']]) {
      const r = await cli(argv);
      expect(r.code, r.err).toBe(2);
      expect(r.err.split('\n')).toEqual([expect.stringMatching(message), '']);
      expect(r.err).not.toContain('secret');
    }
  });
});
