/**
 * The Python MinAtar Breakout of the PyTorch reference (bench/py/minatar_breakout.py) replays the
 * golden traces exactly: observations, rewards, terminals, sticky substitutions and numpy RNG
 * draws. Runs through python3 when numpy is importable there, and skips with the reason otherwise.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goldenTraces } from '../fixtures/golden-dir.js';

const SCRIPT = resolve(__dirname, '..', '..', 'bench', 'py', 'minatar_breakout.py');
// Debian's interpreter is the one with numpy and torch here; a pyenv `python3` on PATH may lack them.
const PYTHON = spawnSync('/usr/bin/python3', ['--version']).status === 0 ? '/usr/bin/python3' : 'python3';
const probe = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
const skipReason = probe.status === 0 ? undefined : `${PYTHON} cannot import numpy (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}); install: apt-get install -y python3-numpy`;
if (skipReason !== undefined) console.warn(`py-breakout: skipped: ${skipReason}`);

const { dir } = goldenTraces();
const scratch = mkdtempSync(join(tmpdir(), 'npcforge-py-breakout-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface CheckResult {
  ok: boolean;
  traces: Array<{ trace: string; kind: string; steps: number }>;
  trace?: string;
  error?: string;
}

function check(folder: string): { status: number | null; result: CheckResult } {
  const r = spawnSync(PYTHON, [SCRIPT, '--check', folder], { encoding: 'utf8', timeout: 60_000 });
  if (r.stdout.trim() === '') throw new Error(`minatar_breakout.py printed nothing: ${r.stderr}`);
  return { status: r.status, result: JSON.parse(r.stdout) as CheckResult };
}

/** A folder holding one golden trace, edited by `edit`. */
function editedCopy(name: string, edit: (trace: Record<string, any>) => void): string {
  const folder = mkdtempSync(join(scratch, 'case-'));
  const trace = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  edit(trace);
  writeFileSync(join(folder, name), JSON.stringify(trace));
  return folder;
}

describe.skipIf(skipReason !== undefined)('python MinAtar Breakout (bench/py/minatar_breakout.py)', () => {
  const breakoutFiles = readdirSync(dir).filter((f) => f.endsWith('.json') && JSON.parse(readFileSync(join(dir, f), 'utf8')).game === 'breakout').sort();

  it('replays every breakout golden trace exactly, both kinds, RNG draws included', () => {
    expect(breakoutFiles.length).toBeGreaterThan(0);
    const { status, result } = check(dir);
    expect(result.error).toBeUndefined();
    expect(status).toBe(0);
    expect(result.traces.map((t) => t.trace)).toEqual(breakoutFiles);
    expect(new Set(result.traces.map((t) => t.kind))).toEqual(new Set(['deterministic', 'rng_replay']));
  });

  it('fails on an observation that differs in one cell, naming the step and cell', () => {
    const folder = editedCopy('breakout_start0_long.json', (t) => {
      t.steps[200].obs[9][0][0] = 1 - t.steps[200].obs[9][0][0];
    });
    const { status, result } = check(folder);
    expect(status).toBe(1);
    expect(result.error).toMatch(/^step 200: obs first differs at row 9, col 0, channel 0 \(paddle\)/);
  });

  it('fails when a sticky substitution or an RNG draw differs from the recording', () => {
    const rngTrace = breakoutFiles.find((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).kind === 'rng_replay')!;
    const otherSeed = check(editedCopy(rngTrace, (t) => (t.rng.seed += 1)));
    expect(otherSeed.status).toBe(1);
    const extraDraw = check(editedCopy(rngTrace, (t) => t.rng.calls.push({ t: 999, fn: 'rand', args: [], result: 0, purpose: 'extra' })));
    expect(extraDraw.status).toBe(1);
    expect(extraDraw.result.error).toMatch(/^rng call \d+ \(extra\)/);
  });

  it('fails when the folder holds no breakout trace', () => {
    const folder = mkdtempSync(join(scratch, 'empty-'));
    copyFileSync(join(dir, 'space_invaders_always_fire.json'), join(folder, 'space_invaders_always_fire.json'));
    const { status, result } = check(folder);
    expect(status).toBe(1);
    expect(result.error).toContain('no breakout trace');
  });
});
