/**
 * Run folder durability: the lock, the repairs of interrupted writes, atomic rewrites and pruning.
 * Interrupted states are built by hand exactly as a kill at each point leaves them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { readCheckpoint, writeBest, writeCheckpoint, type RunnerState } from '../../src/train/checkpoint.js';
import { LOCK_FILE, listCheckpoints, lockRunFolder, pruneCheckpoints, recoverRunFolder } from '../../src/train/run-folder.js';
import { MAX_METRICS_BYTES, truncateMetrics } from '../../src/train/runner.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-runfolder-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function state(step: number): RunnerState {
  return { step, episodes: 0, evals: 0, lastEval: null, wallTime: 0, recentReturns: [], episodeReturns: [0], episodeLengths: [0], obs: [0], envs: [null], acc: { loss: 0, lossCount: 0, updates: 0 } };
}
const snap = (v: number) => ({ json: { v }, blobs: { 'online.bin': new Uint8Array([v, v, v]) } });

/** Pid of a process that has exited (the kernel does not reuse it within the test). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('run folder lock', () => {
  it('refuses a run locked by a live process, naming its pid', () => {
    // The parent of the test worker is alive for the whole test.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    const warnings: string[] = [];
    expect(() => lockRunFolder(dir, (l) => warnings.push(l))).toThrow(CheckpointError);
    expect(() => lockRunFolder(dir, () => {})).toThrow(new RegExp(`locked by pid ${process.ppid}`));
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
    expect(warnings).toEqual([]);
  });

  it('takes over a stale lock of a dead pid with one warning and removes its own lock on release', () => {
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    const warnings: string[] = [];
    const release = lockRunFolder(dir, (l) => warnings.push(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`pid ${pid}`);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    // A second lock from the same process is a conflict only with other processes; the file stays ours.
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    release();
  });

  it('does not remove a lock another process took over', () => {
    const release = lockRunFolder(dir, () => {});
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });
});

describe('recoverRunFolder', () => {
  it('renames in a complete .tmp checkpoint left by a kill before its rename', () => {
    const final = writeCheckpoint(dir, state(300), snap(3));
    const pid = deadPid();
    renameSync(final, join(dir, 'checkpoints', `.tmp-300-${pid}`));
    expect(listCheckpoints(dir)).toEqual([]);
    const lines = recoverRunFolder(dir);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/recovered checkpoint 300/);
    expect(listCheckpoints(dir)).toEqual([300]);
    expect(readCheckpoint(join(dir, 'checkpoints', '300')).agent.json).toEqual({ v: 3 });
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['300']);
  });

  it('removes an incomplete .tmp checkpoint and one whose step already exists', () => {
    writeCheckpoint(dir, state(100), snap(1));
    const pid = deadPid();
    mkdirSync(join(dir, 'checkpoints', `.tmp-200-${pid}`));
    writeFileSync(join(dir, 'checkpoints', `.tmp-200-${pid}`, 'online.bin'), 'x');
    cpSync(join(dir, 'checkpoints', '100'), join(dir, 'checkpoints', `.tmp-100-${pid}`), { recursive: true });
    const lines = recoverRunFolder(dir);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.includes('removed the unfinished checkpoint write'))).toBe(true);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['100']);
  });

  it('leaves the temporaries of a live writer alone', () => {
    writeCheckpoint(dir, state(100), snap(1));
    mkdirSync(join(dir, 'checkpoints', `.tmp-200-${process.ppid}`));
    expect(recoverRunFolder(dir)).toEqual([]);
    expect(existsSync(join(dir, 'checkpoints', `.tmp-200-${process.ppid}`))).toBe(true);
    // Under the run's lock no other training can be writing: the pid now belongs to something else.
    expect(recoverRunFolder(dir, { holdsLock: true })).toHaveLength(1);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['100']);
  });

  it('removes a checkpoint folder without checkpoint.json (kill during pruning) and stray .old/.del folders', () => {
    writeCheckpoint(dir, state(100), snap(1));
    writeCheckpoint(dir, state(200), snap(2));
    writeCheckpoint(dir, state(300), snap(3));
    const pid = deadPid();
    rmSync(join(dir, 'checkpoints', '100', 'checkpoint.json'));
    mkdirSync(join(dir, 'checkpoints', `.old-50-${pid}`));
    // Pruning renames first: a complete `.del-*` copy is still removed, never restored.
    renameSync(join(dir, 'checkpoints', '200'), join(dir, 'checkpoints', `.del-200-${pid}`));
    const lines = recoverRunFolder(dir);
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => /removed checkpoint 100 .* no checkpoint\.json/.test(l))).toBe(true);
    expect(lines.some((l) => /\.del-200-\d+ left by an interrupted pruning/.test(l))).toBe(true);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['300']);
  });

  it('treats a lock file without a pid as held while it is fresh (its writer may be writing the pid)', () => {
    writeFileSync(join(dir, LOCK_FILE), '');
    expect(() => lockRunFolder(dir, () => {})).toThrow(/locked by another process/);
  });

  it('a lock that cannot be created is one CheckpointError line', () => {
    expect(() => lockRunFolder(join(dir, 'missing'), () => {})).toThrow(/^\[run folder\] expected to create the lock file ".*missing\/\.lock", received ENOENT; fix: /);
  });

  it('rolls best/ forward from a complete .tmp-best and back from .old-best', () => {
    writeBest(dir, state(100), snap(1));
    const pid = deadPid();
    // Kill after `best -> .old-best`, before `.tmp-best -> best`.
    renameSync(join(dir, 'best'), join(dir, `.old-best-${pid}`));
    cpSync(join(dir, `.old-best-${pid}`), join(dir, `.tmp-best-${pid}`), { recursive: true });
    writeFileSync(join(dir, `.tmp-best-${pid}`, 'online.bin'), new Uint8Array([9, 9, 9]));
    let lines = recoverRunFolder(dir);
    expect(lines[0]).toMatch(/rolled forward/);
    expect(lines).toHaveLength(2);
    expect([...readCheckpoint(join(dir, 'best')).agent.blobs['online.bin']!]).toEqual([9, 9, 9]);
    expect(readdirSync(dir).sort()).toEqual(['best']);

    // Kill after `best -> .old-best` while the new copy was still incomplete.
    renameSync(join(dir, 'best'), join(dir, `.old-best-${pid}`));
    mkdirSync(join(dir, `.tmp-best-${pid}`));
    lines = recoverRunFolder(dir);
    expect(lines[0]).toMatch(/rolled back/);
    expect(lines).toHaveLength(2);
    expect(readCheckpoint(join(dir, 'best')).agent.json).toEqual({ v: 1 });
    expect(readdirSync(dir).sort()).toEqual(['best']);
  });

  it('removes stray temp files of atomic rewrites and touches nothing in a run locked by a live process', () => {
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":50}\n');
    writeFileSync(join(dir, `metrics.jsonl.tmp-${deadPid()}`), '');
    // status.json (the viewer's running/finished/interrupted) is rewritten the same way.
    writeFileSync(join(dir, `status.json.tmp-${deadPid()}`), '');
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(recoverRunFolder(dir)).toEqual([]);
    rmSync(join(dir, LOCK_FILE));
    expect(recoverRunFolder(dir)).toHaveLength(2);
    expect(readdirSync(dir)).toEqual(['metrics.jsonl']);
  });
});

describe('atomic rewrites and pruning', () => {
  it('truncateMetrics refuses a metrics.jsonl that is a FIFO or too large, without reading it', () => {
    const path = join(dir, 'metrics.jsonl');
    execFileSync('mkfifo', [path]);
    // Reading a FIFO with no writer would block this test forever.
    expect(() => truncateMetrics(path, 100)).toThrow(/^\[metrics\] expected metrics.jsonl to be a regular file, received .* that is not; fix: /);
    rmSync(path);
    writeFileSync(path, '');
    truncateSync(path, MAX_METRICS_BYTES + 1);
    expect(() => truncateMetrics(path, 100)).toThrow(CheckpointError);
    expect(() => truncateMetrics(path, 100)).toThrow(new RegExp(`expected metrics.jsonl of at most ${MAX_METRICS_BYTES} bytes, received .* of ${MAX_METRICS_BYTES + 1} bytes`));
  });

  it('a crash between the write and the rename of truncateMetrics leaves the old metrics.jsonl intact', () => {
    const path = join(dir, 'metrics.jsonl');
    const old = [50, 100, 150, 200].map((step) => JSON.stringify({ step })).join('\n') + '\n';
    writeFileSync(path, old);
    expect(() =>
      truncateMetrics(path, 100, {
        beforeRename: (tmp) => {
          expect(readFileSync(tmp, 'utf8')).toBe('{"step":50}\n{"step":100}\n');
          throw new Error('killed');
        },
      }),
    ).toThrow('killed');
    expect(readFileSync(path, 'utf8')).toBe(old);
    expect(readdirSync(dir)).toEqual(['metrics.jsonl', `metrics.jsonl.tmp-${process.pid}`]);
    truncateMetrics(path, 100);
    expect(readFileSync(path, 'utf8')).toBe('{"step":50}\n{"step":100}\n');
    expect(readdirSync(dir)).toEqual(['metrics.jsonl']);
  });

  it('pruning never leaves a numbered checkpoint without its files', () => {
    for (const s of [100, 200, 300]) writeCheckpoint(dir, state(s), snap(s / 100));
    pruneCheckpoints(dir, 1);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['300']);
  });

  it('replacing a checkpoint of the same step keeps a complete copy under some name at every point', () => {
    writeCheckpoint(dir, state(100), snap(1));
    writeCheckpoint(dir, state(100), snap(2));
    expect(readCheckpoint(join(dir, 'checkpoints', '100')).agent.json).toEqual({ v: 2 });
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['100']);
    // Kill between `100 -> .old-100` and `.tmp-100 -> 100`, the new copy being incomplete: rolled back.
    const pid = deadPid();
    renameSync(join(dir, 'checkpoints', '100'), join(dir, 'checkpoints', `.old-100-${pid}`));
    mkdirSync(join(dir, 'checkpoints', `.tmp-100-${pid}`));
    const lines = recoverRunFolder(dir);
    expect(lines).toHaveLength(2);
    expect(readCheckpoint(join(dir, 'checkpoints', '100')).agent.json).toEqual({ v: 2 });
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['100']);
  });
});
