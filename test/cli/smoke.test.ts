import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

describe('npm run smoke', () => {
  it('every --help works and every bad input ends in at most 2 lines, no stack trace, a non-zero exit', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'smoke.mjs')], { cwd: root, encoding: 'utf8', timeout: 900_000 });
    // On failure the table (case -> ok/FAIL with the reason) is the useful message.
    const failures = r.stdout.split('\n').filter((l) => /\sFAIL\s|^fixture:/.test(l));
    expect(failures).toEqual([]);
    expect(r.stdout).toMatch(/^smoke: \d+ ok, 0 failed/m);
    expect(r.status).toBe(0);
  }, 900_000);
});
