/** scripts/run-summary.mjs: the table rows of docs/results.md from run folders. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without type declarations
import { summarise, valueAt } from '../../scripts/run-summary.mjs';

const root = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-summary-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runDir(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ game: 'minatar/breakout', agent: 'ppo', run: { seed: 3, envs: 64 } }));
  const rows = [
    { step: 250, mean_return_100: 1, eval_return: null, env_steps_per_s: 100, wall_time_s: 2 },
    { step: 500, mean_return_100: 2, eval_return: 2.5, env_steps_per_s: 300, wall_time_s: 4 },
    { step: 750, mean_return_100: 4, eval_return: 2.5, env_steps_per_s: 200, wall_time_s: 6 },
  ];
  writeFileSync(join(dir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

describe('run-summary', () => {
  it('reads a run folder into one summary', () => {
    const s = summarise(runDir('a'), [400, 1000]);
    expect(s).toMatchObject({ game: 'minatar/breakout', agent: 'ppo', seed: 3, envs: 64, frames: 750, returnsAt: [2, null], lastReturn: 4, lastEval: 2.5, framesPerS: 200, wallS: 6 });
    expect(valueAt([[0, 1], [10, 2]], 5)).toBe(2);
  });

  it('prints a markdown table and refuses what is not a run folder, in one line', () => {
    const dir = runDir('b');
    const ok = spawnSync(process.execPath, [join(root, 'scripts', 'run-summary.mjs'), '--at', '500', dir], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.split('\n')[2]).toBe('| minatar/breakout | ppo | 3 | 64 | 750 | 2.00 | 4.00 | 2.50 | 200 | 6 |');
    const bad = spawnSync(process.execPath, [join(root, 'scripts', 'run-summary.mjs'), join(dir, 'metrics.jsonl')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('expected a run folder');
  });
});
