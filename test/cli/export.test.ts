/** `npcforge export` from the built CLI: writes the bundle, prints policy.json with --json, rejects an unknown checkpoint, writes --decision-period. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { exportPolicy } from '../../src/export/export-policy.js';
import { loadPolicy } from '../../src/runtime/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-cli-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npcforge export (CLI)', () => {
  it('exports a run, rejects an unknown checkpoint, writes --decision-period (version 2 only when set)', async () => {
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

    // --decision-period: absent -> a version 1 bundle without the field; k > 1 -> version 2, the runtime controller's default.
    expect(policy.version).toBe(1);
    expect(policy.decisionPeriod).toBeUndefined();
    const out4 = join(tmp, 'npc4');
    const k4 = spawnSync(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'export', res.runDir, '--out', out4, '--decision-period', '4', '--json'], { encoding: 'utf8' });
    expect(k4.status).toBe(0);
    const p4 = JSON.parse(k4.stdout.trim().split('\n').pop()!);
    expect(p4.version).toBe(2);
    expect(p4.decisionPeriod).toBe(4);
    const loaded = await loadPolicy(out4, { game: 'catch' });
    expect(loaded.controller().decisionPeriod).toBe(4);
    loaded.dispose();
    for (const v of ['0', '2.5', 'abc', '601']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'npcforge.js'), 'export', res.runDir, '--out', join(tmp, 'y'), '--decision-period', v], { encoding: 'utf8' });
      expect(r.status, v).not.toBe(0);
      expect(r.stderr, v).toMatch(/\[--decision-period\] expected a decision period, an integer from 1 to 600 frames, received .*; fix: /);
    }
    expect(existsSync(join(tmp, 'y'))).toBe(false);
    await expect(exportPolicy({ runDir: res.runDir, outDir: join(tmp, 'z'), decisionPeriod: -1 })).rejects.toThrow(/\[export\] expected a decision period/);
  });
});
