/** `npcforge export` from the built CLI: writes the bundle, prints policy.json with --json, rejects an unknown checkpoint. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-cli-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npcforge export (CLI)', () => {
  it('exports a run and rejects an unknown checkpoint', async () => {
    const config = resolveRunConfig({ game: 'catch', flags: { steps: 300, seed: 1, evalEvery: 0, evalEpisodes: 2, checkpointEvery: 0, logEvery: 100 }, file: { learningStarts: 100, batchSize: 16 } });
    const res = await train({ config, outDir: tmp, progress: null });
    const out = join(tmp, 'npc');
    const ok = spawnSync(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'export', res.runDir, '--out', out, '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const policy = JSON.parse(ok.stdout.trim().split('\n').pop()!);
    expect(policy.format).toBe('npcforge-policy');
    expect(policy.training.checkpoint).toBe(300);
    for (const f of ['policy.json', 'model.json', 'weights.bin']) expect(existsSync(join(out, f))).toBe(true);
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'export', res.runDir, '--checkpoint', '7', '--out', join(tmp, 'x')], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('[checkpoint] expected one of [300], received 7');
  });
});
