/**
 * `npcforge record <game> --policy <run>` stores the observation of every frame (for the viewer's
 * saliency maps) unless `--no-observations`: the stored observations are those the run's agent
 * acted on. `train`'s evaluation episodes store them too.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../games/index.js';
import { make } from '../../src/envs/registry.js';
import type { Env, ObsArray } from '../../src/envs/env.js';
import { readEpisodeFile } from '../../src/replay/episodes/read-file.js';
import { resolveRunConfig } from '../../src/train/run-config.js';
import { train } from '../../src/train/runner.js';
import { runCli } from '../helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'npcrec-obs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npcforge record --policy <run>: observations', () => {
  it('stores every frame\'s observation by default, none with --no-observations', async () => {
    const game = 'minatar/breakout';
    const config = resolveRunConfig({ game, agent: 'dqn', flags: { steps: 64, seed: 2, evalEvery: 64, evalEpisodes: 1, checkpointEvery: 0, logEvery: 32 } });
    const res = await train({ config, outDir: join(tmp, 'runs'), progress: null });
    const withDir = join(tmp, 'with');
    const r = await runCli(['record', game, '--policy', res.runDir, '--out', withDir, '--seed', '5', '--max-steps', '30']);
    expect(r.code, r.err).toBe(0);
    const ep = readEpisodeFile(join(withDir, readdirSync(withDir)[0]!));
    expect(ep.observations).toEqual({ dtype: 'uint8', shape: [10, 10, 4] });
    // The stored observations are the game's: replaying the recorded actions gives them back.
    const env = make(game) as Env<ObsArray, number>;
    let obs = env.reset({ seed: 5 }).obs;
    for (let k = 0; k < ep.frameCount; k++) {
      expect(ep.observation(k)).toEqual(obs);
      if (k < ep.stepCount) obs = env.step(ep.actions[k]!).obs;
    }
    env.close();
    const withoutDir = join(tmp, 'without');
    expect((await runCli(['record', game, '--policy', res.runDir, '--out', withoutDir, '--seed', '5', '--max-steps', '30', '--no-observations'])).code).toBe(0);
    const bare = readEpisodeFile(join(withoutDir, readdirSync(withoutDir)[0]!));
    expect(bare.observations).toBeNull();
    expect(Array.from(bare.actions)).toEqual(Array.from(ep.actions));
    // The run's own evaluation episodes carry them as well.
    const evalDir = join(res.runDir, 'episodes');
    const evals = readdirSync(evalDir).filter((f) => f.startsWith('eval-'));
    expect(evals.length).toBeGreaterThan(0);
    const evalEp = readEpisodeFile(join(evalDir, evals[0]!));
    expect(evalEp.observations).toEqual({ dtype: 'uint8', shape: [10, 10, 4] });
    const replay = make(game) as Env<ObsArray, number>;
    let o = replay.reset({ seed: evalEp.header.seed! }).obs;
    for (let k = 0; k < evalEp.frameCount; k++) {
      expect(evalEp.observation(k)).toEqual(o);
      if (k < evalEp.stepCount) o = replay.step(evalEp.actions[k]!).obs;
    }
    replay.close();
  }, 120_000);
});
