/** `npcforge train beacon` (a Dict-observation game) works from the CLI with the game's defaults (PPO, one encoder per key). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

describe('npcforge train on a Dict-observation game', () => {
  it('trains beacon with its defaults: ppo, greedy mean >= 0.9 over 100 episodes after 12k steps', () => {
    const out = mkdtempSync(join(tmpdir(), 'npcforge-cli-dict-'));
    const r = spawnSync(process.execPath, [join(root, 'bin', 'npcforge.js'), 'train', 'beacon', '--steps', '12000', '--seed', '1', '--out', out, '--json', '--no-progress'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout) as { runDir: string; step: number; lastEval: { episodes: number; mean_return: number } };
    expect(result.step).toBe(12_000);
    expect(result.lastEval.episodes).toBe(100);
    expect(result.lastEval.mean_return).toBeGreaterThanOrEqual(0.9);
    const config = JSON.parse(readFileSync(join(result.runDir, 'config.json'), 'utf8')) as { agent: string; agentConfig: { encoder: string } };
    expect(config.agent).toBe('ppo');
    expect(config.agentConfig.encoder).toBe('auto');
  }, 150_000);
});
