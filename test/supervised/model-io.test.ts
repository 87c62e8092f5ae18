/**
 * The files of a supervised run folder are untrusted (issue 14): a FIFO, a link to /dev/zero or an
 * oversized file is refused before reading, and corrupt JSON is reported without quoting it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '../../src/errors.js';
import { initBackend } from '../../src/networks/backend.js';
import { MAX_RUN_FILE_BYTES, loadLayersModel, saveLayersModel } from '../../src/supervised/model-io.js';
import { SupervisedRun } from '../../src/supervised/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcforge-model-io-'));
beforeAll(async () => {
  await initBackend({ quiet: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

async function savedModel(name: string): Promise<string> {
  const dir = join(tmp, name);
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
  await saveLayersModel(model, dir);
  model.dispose();
  return dir;
}

describe('supervised run folder files', () => {
  it('loadLayersModel refuses a FIFO weights.bin and a model.json linked to /dev/zero without reading them', async () => {
    const fifo = await savedModel('fifo');
    rmSync(join(fifo, 'weights.bin'));
    // Reading a FIFO with no writer would block this test forever.
    execFileSync('mkfifo', [join(fifo, 'weights.bin')]);
    const e1 = await rejection(loadLayersModel(fifo));
    expect(e1).toBeInstanceOf(CheckpointError);
    expect(e1.message).toMatch(/^\[loadLayersModel\] expected a regular file of at most \d+ bytes, received .*weights\.bin" that is not a regular file; fix: /);

    const zero = await savedModel('zero');
    rmSync(join(zero, 'model.json'));
    symlinkSync('/dev/zero', join(zero, 'model.json'));
    expect((await rejection(loadLayersModel(zero))).message).toMatch(/model\.json" that is not a regular file/);

    const big = await savedModel('big');
    truncateSync(join(big, 'weights.bin'), MAX_RUN_FILE_BYTES.weights + 1);
    expect((await rejection(loadLayersModel(big))).message).toMatch(new RegExp(`of ${MAX_RUN_FILE_BYTES.weights + 1} bytes`));
  });

  it('SupervisedRun.load: a FIFO run.json is refused, corrupt JSON is one line that does not quote the file', async () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, 'run.json')]);
    const e1 = await rejection(SupervisedRun.load(dir));
    expect(e1).toBeInstanceOf(CheckpointError);
    expect(e1.message).toMatch(/run\.json" that is not a regular file/);
    rmSync(join(dir, 'run.json'));
    writeFileSync(join(dir, 'run.json'), '{"secret-token-123":\n oops');
    const e2 = await rejection(SupervisedRun.load(dir));
    expect(e2).toBeInstanceOf(CheckpointError);
    expect(e2.message).toMatch(/run\.json": invalid JSON; fix: pass a folder written by `npcforge fit`$/);
    expect(e2.message).not.toContain('secret');
    expect(e2.message).not.toContain('\n');
  });
});
