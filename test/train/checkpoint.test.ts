/** Checkpoint files: write errors (disk full) leave nothing half-written; corrupt files give one line. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { readCheckpoint, writeBest, writeCheckpoint, type RunnerState } from '../../src/train/checkpoint.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-checkpoint-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function state(step: number): RunnerState {
  return { step, episodes: 0, evals: 0, lastEval: null, wallTime: 0, recentReturns: [], episodeReturns: [0], episodeLengths: [0], obs: [0], envs: [null], acc: { loss: 0, lossCount: 0, updates: 0 } };
}
const snap = (v: number) => ({ json: { v }, blobs: { 'online.bin': new Uint8Array([v]), 'optimizer.bin': new Uint8Array([v, v]) } });

/** A writer that fails like a full disk after `okWrites` successful writes. */
function diskFullAfter(okWrites: number): (path: string, data: string | Uint8Array) => void {
  let n = 0;
  return (path, data) => {
    if (n++ >= okWrites) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
    writeFileSync(path, data);
  };
}

describe('checkpoint write errors', () => {
  it('writeCheckpoint on a full disk: one-line CheckpointError, temp folder removed, previous checkpoints intact', () => {
    writeCheckpoint(dir, state(100), snap(1));
    for (const ok of [0, 1, 2]) {
      let err: unknown;
      try {
        writeCheckpoint(dir, state(200), snap(2), { writeFile: diskFullAfter(ok) });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CheckpointError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^\[checkpoint\] expected to write checkpoint 200, received ENOSPC while writing .*\.tmp-200-\d+.*; fix: free disk space/);
      expect(msg).not.toContain('\n');
      expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['100']);
    }
    // Replacing an existing step: the old copy survives the failed write.
    expect(() => writeCheckpoint(dir, state(100), snap(5), { writeFile: diskFullAfter(1) })).toThrow(CheckpointError);
    expect(readCheckpoint(join(dir, 'checkpoints', '100')).agent.json).toEqual({ v: 1 });
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['100']);
  });

  it('writeBest on a full disk keeps the previous best/ and no temp folder', () => {
    writeBest(dir, state(100), snap(1));
    expect(() => writeBest(dir, state(200), snap(2), { writeFile: diskFullAfter(2) })).toThrow(/expected to write the best weights \(step 200\), received ENOSPC/);
    expect(readdirSync(dir)).toEqual(['best']);
    expect(readCheckpoint(join(dir, 'best')).runner.step).toBe(100);
  });
});

describe('readCheckpoint of corrupt files', () => {
  it('reports invalid JSON in one line without quoting the file', () => {
    const c = join(dir, 'c');
    mkdirSync(c);
    writeFileSync(join(c, 'checkpoint.json'), '{"secret-token-123": \n\n oops');
    let err: unknown;
    try {
      readCheckpoint(c);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/checkpoint\.json.*: invalid JSON; fix:/);
    expect(msg).not.toContain('secret');
    expect(msg).not.toContain('\n');
    expect(msg).not.toMatch(/--checkpoint/);
  });

  it('rejects a checkpoint.json that is not a regular file and blob names leaving the folder', () => {
    const c = join(dir, 'c');
    mkdirSync(join(c, 'checkpoint.json'), { recursive: true });
    expect(() => readCheckpoint(c)).toThrow(/regular file/);
    rmSync(join(c, 'checkpoint.json'), { recursive: true });
    writeFileSync(join(c, 'checkpoint.json'), JSON.stringify({ format: 'npcforge-checkpoint', version: 1, runner: state(1), agent: {}, blobs: ['../../etc/passwd'] }));
    expect(() => readCheckpoint(c)).toThrow(/blob names inside the checkpoint folder/);
  });

  it('rejects a blob that is a FIFO or a link to /dev/zero without reading it', () => {
    const c = writeCheckpoint(dir, state(100), snap(1));
    rmSync(join(c, 'online.bin'));
    // Reading a FIFO with no writer would block this test forever; /dev/zero would fill the memory.
    execFileSync('mkfifo', [join(c, 'online.bin')]);
    expect(() => readCheckpoint(c)).toThrow(CheckpointError);
    expect(() => readCheckpoint(c)).toThrow(/^\[checkpoint\] expected blob file online\.bin to be a regular file, received .*online\.bin" that is not; fix: /);
    rmSync(join(c, 'online.bin'));
    symlinkSync('/dev/zero', join(c, 'online.bin'));
    expect(() => readCheckpoint(c)).toThrow(/blob file online\.bin to be a regular file/);
  });
});
