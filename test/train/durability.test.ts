/**
 * Resume durability in-process: corrupt latest checkpoints are skipped with a warning, `checkpoint`
 * picks one, a budget at or below the checkpoint is refused, a missing replay memory is announced,
 * the run folder is locked, and `loadRunAgent` repairs or refuses a run without its best/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import '../../games/index.js';
import { CheckpointError, InvalidConfigError } from '../../src/errors.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { LOCK_FILE, listCheckpoints } from '../../src/train/run-folder.js';
import { loadRunAgent, train } from '../../src/train/runner.js';

let dir: string;
let base: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npcforge-durability-'));
  base = join(dir, 'base');
  const config = resolveRunConfig({ game: 'catch', file: { learningStarts: 40, batchSize: 8, steps: 300, evalEvery: 100, evalEpisodes: 2, logEvery: 50, checkpointEvery: 100 } });
  await train({ config, runDir: base, progress: null });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh copy of the trained run. */
function copyRun(name: string): string {
  const to = join(dir, name);
  cpSync(base, to, { recursive: true });
  return to;
}

function capture(): { out: { write(s: string): boolean; isTTY: boolean }; lines: () => string[] } {
  let buf = '';
  return { out: { write: (s: string) => ((buf += s), true), isTTY: false }, lines: () => buf.split('\n').filter(Boolean) };
}

const metricSteps = (run: string): number[] =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);

describe('resume durability', () => {
  it('skips a corrupt latest checkpoint with one warning, says the replay memory is empty, and continues', async () => {
    const run = copyRun('corrupt');
    expect(listCheckpoints(run)).toEqual([100, 200, 300]);
    writeFileSync(join(run, 'checkpoints', '300', 'checkpoint.json'), '{"format": "npcforge-checkpoint",\n trunc');
    const c = capture();
    const res = await train({ resume: run, steps: 400, progress: c.out, showProgress: false });
    expect(res.step).toBe(400);
    const lines = c.lines().filter((l) => !l.startsWith('npcforge: compute backend'));
    expect(lines[0]).toBe(`npcforge: checkpoint 300 of ${run} is corrupt or incomplete; resuming from checkpoint 200, the newest intact one`);
    expect(lines[1]).toBe('npcforge: checkpoint 200 holds no replay memory (the run was trained without --save-replay); learning restarts from an empty replay memory');
    expect(lines[2]).toBe('npcforge: removed checkpoint 300, newer than the resumed checkpoint 200');
    expect(lines[3]).toMatch(new RegExp(`^npcforge: done at step 400; eval return \\S+ \\(best \\S+\\); run ${run}$`));
    expect(lines).toHaveLength(4);
    expect(metricSteps(run)).toEqual([50, 100, 150, 200, 250, 300, 350, 400]);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });

  it('a missing blob also counts as corrupt; when all are corrupt the newest one\'s error is reported', async () => {
    const run = copyRun('blob');
    rmSync(join(run, 'checkpoints', '300', 'weights.online.bin'));
    const c = capture();
    const res = await train({ resume: run, steps: 350, progress: c.out, showProgress: false });
    expect(res.step).toBe(350);
    expect(c.lines()[0]).toMatch(/checkpoint 300 .* resuming from checkpoint 200/);
    for (const s of listCheckpoints(run)) writeFileSync(join(run, 'checkpoints', String(s), 'checkpoint.json'), 'x');
    await expect(train({ resume: run, steps: 1000, progress: null })).rejects.toThrow(/^\[checkpoint\] expected a readable checkpoint\.json, received ".*checkpoints\/350\/checkpoint\.json": invalid JSON; fix:/);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });

  it('resumes from a chosen checkpoint and refuses one that does not exist', async () => {
    const run = copyRun('chosen');
    await expect(train({ resume: run, checkpoint: 150, steps: 400, progress: null })).rejects.toThrow(/expected one of the run's checkpoints \[100, 200, 300\], received 150/);
    const res = await train({ resume: run, checkpoint: 100, steps: 250, progress: null });
    expect(res.step).toBe(250);
    expect(listCheckpoints(run)).toEqual([100, 200, 250]);
    expect(metricSteps(run)).toEqual([50, 100, 150, 200, 250]);
  });

  it('refuses a step budget at or below the checkpoint in one line, changing nothing', async () => {
    const run = copyRun('budget');
    const before = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
    for (const steps of [300, 200, undefined]) {
      let err: unknown;
      try {
        await train({ resume: run, steps, progress: null });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toMatch(/^\[train --resume\] expected a step budget above the checkpoint's step 300, received \d+.*; fix: pass --steps with more than 300 steps/);
    }
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe(before);
    expect(listCheckpoints(run)).toEqual([100, 200, 300]);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });

  it('refuses a run locked by a live process and takes over a dead one', async () => {
    const run = copyRun('locked');
    writeFileSync(join(run, LOCK_FILE), `${process.ppid}\n`);
    await expect(train({ resume: run, steps: 350, progress: null })).rejects.toThrow(CheckpointError);
    await expect(train({ resume: run, steps: 350, progress: null })).rejects.toThrow(new RegExp(`locked by pid ${process.ppid}`));
    expect(metricSteps(run).at(-1)).toBe(300);
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(join(run, LOCK_FILE), `${dead}\n`);
    const c = capture();
    const res = await train({ resume: run, steps: 350, progress: c.out, showProgress: false });
    expect(res.step).toBe(350);
    expect(c.lines()[0]).toBe(`npcforge: took over the lock of ${run} left by pid ${dead}, which is no longer running`);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });

  it('resume finishes an interrupted first checkpoint rename instead of refusing the run', async () => {
    const run = copyRun('tmpck');
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    for (const s of [100, 200]) rmSync(join(run, 'checkpoints', String(s)), { recursive: true });
    renameSync(join(run, 'checkpoints', '300'), join(run, 'checkpoints', `.tmp-300-${dead}`));
    const c = capture();
    const res = await train({ resume: run, steps: 350, progress: c.out, showProgress: false });
    expect(res.step).toBe(350);
    expect(c.lines()[0]).toMatch(/recovered checkpoint 300/);
  });
});

describe('loadRunAgent and best/', () => {
  it('rolls an interrupted best/ update back and says so', async () => {
    const run = copyRun('best-rollback');
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    renameSync(join(run, 'best'), join(run, `.old-best-${dead}`));
    const warnings: string[] = [];
    const loaded = await loadRunAgent(run, undefined, { warn: (l) => warnings.push(l) });
    loaded.agent.dispose();
    expect(loaded.best).toBe(true);
    expect(warnings).toEqual([`npcforge: restored ${join(run, 'best')} from .old-best-${dead} (its update was interrupted; rolled back)`]);
    expect(readdirSync(run).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses to switch silently to a checkpoint when best/ is lost', async () => {
    const run = copyRun('best-lost');
    rmSync(join(run, 'best'), { recursive: true });
    await expect(loadRunAgent(run, undefined, { warn: () => {} })).rejects.toThrow(/expected best\/ with the best-evaluated weights .* without best\/; fix: use a checkpoint instead: eval and export take --checkpoint <step> \(one of 100, 200, 300\)/);
    const named = await loadRunAgent(run, 300, { warn: () => {} });
    expect(named.step).toBe(300);
    named.agent.dispose();
  });
});

describe('write errors during training', () => {
  it('a metrics.jsonl that cannot be appended to ends the run with one CheckpointError line and releases the lock', async () => {
    const run = join(dir, 'unwritable');
    mkdirSync(join(run, 'metrics.jsonl'), { recursive: true });
    const config = resolveRunConfig({ game: 'catch', file: { learningStarts: 40, batchSize: 8, steps: 100, evalEpisodes: 0, logEvery: 50, checkpointEvery: 0 } });
    let err: unknown;
    try {
      await train({ config, runDir: run, progress: null });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/^\[metrics\] expected to append step 50 to ".*metrics\.jsonl", received EISDIR; fix: check that the run folder is writable/);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });
});

describe('train CLI output', () => {
  it('--json prints one result object on stdout; --no-progress keeps only the final line on stderr', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ learningStarts: 40, batchSize: 8, evalEvery: 50, evalEpisodes: 2, logEvery: 50, checkpointEvery: 50 }));
    let code: number;
    try {
      code = await main(['train', 'catch', '--steps', '100', '--config', join(dir, 'tiny.json'), '--out', join(dir, 'cli'), '--no-progress', '--json']);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const res = JSON.parse(out[0]!) as Record<string, unknown>;
    const runDir = join(dir, 'cli', readdirSync(join(dir, 'cli'))[0]!);
    expect(res).toMatchObject({ runDir, step: 100, interrupted: false, signal: null, stoppedEarly: false, checkpoint: join(runDir, 'checkpoints', '100') });
    expect((res.lastEval as { episodes: number }).episodes).toBe(2);
    expect(typeof res.bestEval).toBe('number');
    const human = err.join('').split('\n').filter((l) => l && !l.startsWith('npcforge: compute backend'));
    expect(human).toEqual([expect.stringMatching(new RegExp(`^npcforge: done at step 100; eval return -?\\d+(\\.\\d+)? \\(best -?\\d+(\\.\\d+)?\\); run ${runDir}$`))]);
  });

  it('--checkpoint without --resume is a usage error', async () => {
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['train', 'catch', '--checkpoint', '100', '--out', join(dir, 'none')])).toBe(2);
      expect(String(e.mock.calls[0]?.[0])).toMatch(/^npcforge: \[train --checkpoint\] expected --resume <run> next to --checkpoint/);
    } finally {
      e.mockRestore();
    }
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});
