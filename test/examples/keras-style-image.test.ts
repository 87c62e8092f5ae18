/**
 * examples/keras-style-image end to end at a small size, the way its README runs it:
 * `npcforge data fashion-mnist` -> resize.mjs -> train.mjs (flow_from_directory, CNN, compile, fit,
 * predict one image). The full 224x224 run's figures are in the README (minutes, not a test).
 */
import sharp from 'sharp';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'keras-style-image');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'npcforge-keras-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('examples/keras-style-image', () => {
  it('resizes a fashion-mnist folder to 48x48, trains one epoch, reports test accuracy and predicts one image', async () => {
    await run(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'data', 'fashion-mnist', '--limit-per-class', '6', '--out', join(root, 'fm28')]);
    const resized = await run(process.execPath, [join(EXAMPLE, 'resize.mjs'), '--from', join(root, 'fm28'), '--out', join(root, 'fm48'), '--size', '48']);
    expect(resized.stdout).toContain('resized 60 images to 48x48');
    const bag = join(root, 'fm48', 'train', 'bag');
    const meta = await sharp(join(bag, (await readdir(bag))[0]!)).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([48, 48, 1]);

    const { stdout } = await run(process.execPath, [join(EXAMPLE, 'train.mjs'), '--data', join(root, 'fm48'), '--size', '48', '--epochs', '1', '--batch-size', '8', '--json'], { maxBuffer: 1 << 24 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(r.classes).toHaveLength(10);
    expect(r.trainSamples + r.validationSamples + r.testSamples).toBe(60);
    expect(r.testSamples).toBeGreaterThan(0);
    expect(r.history).toHaveLength(1);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(r.testAccuracy).toBeLessThanOrEqual(1);
    // The predicted image is the first test image of the first class; its label is one of the classes.
    expect(r.predicted.image).toContain(join('fm48', 'test', 'ankle-boot'));
    expect(r.classes).toContain(r.predicted.label);
    expect(r.predicted.probability).toBeGreaterThan(0);
    expect(r.predicted.probability).toBeLessThanOrEqual(1);
  }, 300_000);

  it('says what to pass when --data is missing or --size is bad (exit 2)', async () => {
    for (const [args, message] of [[[], /usage: node train\.mjs --data/], [['--data', root, '--size', 'x'], /expected --size an integer >= 8, received "x"/]] as const) {
      const err = await run(process.execPath, [join(EXAMPLE, 'train.mjs'), ...args]).then(() => null, (e: { code: number; stdout: string; stderr: string }) => e);
      expect(err?.code).toBe(2);
      expect(err!.stderr).toMatch(message);
    }
  }, 60_000);
});
