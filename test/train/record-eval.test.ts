import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import '../../games/index.js';
import { readEpisode } from '../../src/replay/episodes/reader.js';
import { verifyEpisode } from '../../src/replay/episodes/verify.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'npcforge-record-eval-'));
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});
let runDir = '';

describe('the runner records evaluation episodes for the viewer', () => {
  it('writes annotated, replayable .npcep files under <run>/episodes', async () => {
    // As under `npx npcforge` inside another project: that project's version must not leak into the run.
    vi.stubEnv('npm_package_version', '9.9.9-other');
    const config = resolveRunConfig({ game: 'catch', flags: { steps: 120, evalEvery: 60, evalEpisodes: 3, logEvery: 60 } as never, file: { learningStarts: 40, batchSize: 8 } });
    const res = await train({ config, runDir: join(dir, 'run'), progress: null, recordEvalEpisodes: 2 });
    const files = readdirSync(join(res.runDir, 'episodes')).sort();
    // Two evaluations (steps 60 and 120), two recorded episodes each.
    // One naming scheme for every recorded episode: <source>-s<seed>-e<index>.
    expect(files.map((f) => f.replace(/-s\d+-/, '-s*-'))).toEqual(['eval-step120-s*-e000.npcep', 'eval-step120-s*-e001.npcep', 'eval-step60-s*-e000.npcep', 'eval-step60-s*-e001.npcep']);
    for (const f of files) {
      const ep = readEpisode(new Uint8Array(readFileSync(join(res.runDir, 'episodes', f))), { source: f });
      expect(ep.header.game.id).toBe('catch');
      expect(ep.stepCount).toBe(9);
      expect(ep.q).not.toBeNull();
      expect(ep.annotation(0)?.q).toHaveLength(3);
      // The greedy eval action is the argmax of the recorded Q-values.
      for (let t = 0; t < ep.stepCount; t++) {
        const q = Array.from(ep.annotation(t)!.q!);
        expect(q.indexOf(Math.max(...q))).toBe(ep.actions[t]);
      }
      expect(verifyEpisode(ep).ok).toBe(true);
    }
    runDir = res.runDir;
    // config.json records npcforge's own version, not the version of the project that ran npm.
    const own = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    const runFile = JSON.parse(readFileSync(join(res.runDir, 'config.json'), 'utf8')) as { versions: { npcforge: string } };
    expect(runFile.versions.npcforge).toBe(own);
  });

  // MultiDiscrete (tank, PPO: action probabilities per part) and Box (pendulum, PPO: a Gaussian, value only).
  for (const [game, width] of [['tank', 3], ['pendulum', 1]] as const) {
    it(`records ${game} evaluation episodes with their ${width === 3 ? 'MultiDiscrete' : 'Box'} action rows, replayable`, async () => {
      const notices: string[] = [];
      // Two envs: `record --policy` below loads the run (pendulum's preset normalises rewards, whose
      // state has one running return per training env) and must not need the env count repeated.
      const config = resolveRunConfig({ game, agent: 'ppo', flags: { steps: 64, envs: 2, evalEvery: 64, evalEpisodes: 2, logEvery: 64 } as never, file: { numSteps: 16, minibatches: 1, epochs: 1 } });
      const res = await train({ config, runDir: join(dir, `run-${game}`), progress: { write: (s: string) => (notices.push(s), true) } as never, showProgress: false, recordEvalEpisodes: 1 });
      expect(notices.join('')).not.toMatch(/not recorded/);
      const files = readdirSync(join(res.runDir, 'episodes'));
      expect(files).toHaveLength(1);
      const ep = readEpisode(new Uint8Array(readFileSync(join(res.runDir, 'episodes', files[0]!))));
      expect(ep.header.version).toBe(2);
      expect(ep.actionLayout.width).toBe(width);
      expect(ep.actions).toBeInstanceOf(width === 3 ? Int32Array : Float32Array);
      expect(ep.actions.length).toBe(ep.stepCount * width);
      expect(ep.stepCount).toBeGreaterThan(0);
      expect(ep.annotation(0)?.value).toEqual(expect.any(Number));
      if (game === 'tank') {
        // Greedy MultiDiscrete actions: each part is the argmax of that part's recorded probabilities.
        for (let t = 0; t < ep.stepCount; t++) {
          const probs = Array.from(ep.annotation(t)!.probs!);
          expect(probs).toHaveLength(10);
          let off = 0;
          [5, 3, 2].forEach((k, part) => {
            const p = probs.slice(off, off + k);
            expect(p.indexOf(Math.max(...p))).toBe(ep.actions[t * 3 + part]);
            off += k;
          });
        }
      }
      expect(verifyEpisode(ep).ok).toBe(true);
      // `npcforge record --policy <run>` plays the trained agent's rows the same way.
      const out = join(dir, `recorded-${game}`);
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        expect(await main(['record', game, '--policy', res.runDir, '--seed', '7', '--out', out])).toBe(0);
      } finally {
        write.mockRestore();
      }
      const [rec] = readdirSync(out);
      const again = readEpisode(new Uint8Array(readFileSync(join(out, rec!))));
      expect(again.header.seed).toBe(7);
      expect(again.actions.length).toBe(again.stepCount * width);
      expect(verifyEpisode(again).ok).toBe(true);
    });
  }

  it('`npcforge record --policy <run>` records the trained agent; a run of another game is refused', async () => {
    const out = join(dir, 'recorded');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const errs: string[] = [];
    const ewrite = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (errs.push(String(s)), true));
    try {
      expect(await main(['record', 'catch', '--policy', runDir, '--episodes', '2', '--seed', '5', '--out', out])).toBe(0);
      expect(await main(['record', 'cartpole', '--policy', runDir, '--out', out])).toBe(2);
    } finally {
      write.mockRestore();
      ewrite.mockRestore();
    }
    expect(errs.join('')).toMatch(/expected a run of "cartpole", received a run of "catch"/);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const ep = readEpisode(new Uint8Array(readFileSync(join(out, files[0]!))));
    expect(ep.header.seed).toBe(5);
    expect(ep.q).not.toBeNull();
    expect(verifyEpisode(ep).ok).toBe(true);
  });
});
