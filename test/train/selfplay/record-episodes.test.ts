/**
 * Episodes recorded by self-play runs: a run of tag (multi-agent only) records multi-agent episodes
 * (the learner's seat against random seats) that `replay verify` re-simulates; a pong run keeps
 * its single-agent episodes against the scripted bot.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../../games/index.js';
import { main } from '../../../src/cli/main.js';
import { train } from '../../../src/train/runner.js';
import { resolveSelfPlayRunConfig } from '../../../src/cli/commands/selfplay-flags.js';
import { readEpisode } from '../../../src/replay/episodes/reader.js';
import { verifyEpisode } from '../../../src/replay/episodes/verify.js';
import { encodeEpisode } from '../../../src/replay/episodes/encoder.js';

const dir = mkdtempSync(join(tmpdir(), 'npcforge-selfplay-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE = { numSteps: 16, minibatches: 1, epochs: 1, envs: 3, logEvery: 48, evalEvery: 48, evalEpisodes: 2, seed: 2 };

async function trainRun(game: string, envOptions: Record<string, unknown>, selfplayAgent?: string): Promise<string> {
  const config = resolveSelfPlayRunConfig({ game, file: { ...FILE, envOptions, selfplay: { saveEvery: 48, swapEvery: 48 } }, flags: { steps: 48 } }, { selfplay: true, ...(selfplayAgent ? { selfplayAgent } : {}) });
  const res = await train({ config, runDir: join(dir, game), progress: null, recordEvalEpisodes: 2 });
  return res.runDir;
}

const episodes = (runDir: string) =>
  readdirSync(join(runDir, 'episodes'))
    .sort()
    .map((f) => readEpisode(new Uint8Array(readFileSync(join(runDir, 'episodes', f))), { source: f }));

describe('self-play runs record replayable episodes', () => {
  it('tag: multi-agent episodes, the learner annotated and labelled <run>:<step>, the others random; replay verify ok', async () => {
    const runDir = await trainRun('tag', { maxSteps: 30 }, 'evader');
    const eps = episodes(runDir);
    expect(eps).toHaveLength(2);
    for (const ep of eps) {
      expect(ep.header.version).toBe(3);
      expect(ep.header.game.id).toBe('tag');
      expect(ep.learner).toBe('evader');
      expect(ep.agents!.map((a) => `${a.name}=${a.controller}`)).toEqual(['chaser_0=random', 'chaser_1=random', `evader=${basename(runDir)}:48`]);
      // The learner's probabilities and value at every step; the random seats have none.
      expect(ep.agentAnnotation(2, 0)!.probs).toHaveLength(5);
      expect(ep.agentAnnotation(2, 0)!.value).toBeTypeOf('number');
      expect(ep.agentAnnotation(0, 0)).toBeUndefined();
      expect(verifyEpisode(ep).ok).toBe(true);
    }
    const files = readdirSync(join(runDir, 'episodes')).map((f) => join(runDir, 'episodes', f));
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    try {
      expect(await main(['replay', 'verify', ...files])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out).toMatch(/^ok .*\.npcep: tag, 3 agents \(chaser_0, chaser_1, evader\), seed \d+, \d+ steps, all \d+ frames match\n/);
  });

  it('replay verify names a single-agent file of tag (as earlier versions recorded) in one line, exit 2', async () => {
    const ep = episodes(join(dir, 'tag'))[0]!;
    // The learner's seat as a single-agent episode named tag: what the runner wrote before multi-agent episodes.
    const { agents: _a, learner: _l, ...header } = ep.header;
    const old = join(dir, 'old-tag.npcep');
    const steps = Array.from({ length: ep.stepCount }, (_, t) => ({ action: ep.actions[t]!, reward: ep.rewards[t]!, terminated: ep.terminated[t] === 1, truncated: ep.truncated[t] === 1, frame: ep.frame(t + 1) }));
    writeFileSync(old, encodeEpisode(header, ep.frame(0), steps));
    let err = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    try {
      expect(await main(['replay', 'verify', old])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/expected a single-agent game to rebuild \(make\(\)\), or a multi-agent episode, received a single-agent episode of "tag", a multi-agent-only game \(recorded by an earlier npcforge\); fix: record it again as a multi-agent episode: npcforge record <run> --opponent random/);
  });

  it('pong: single-agent episodes against the scripted bot (the game pong of make()), replayable', async () => {
    const runDir = await trainRun('pong', { pointsToWin: 1 });
    for (const ep of episodes(runDir)) {
      expect(ep.agents).toBeNull();
      expect(ep.header.version).toBe(1);
      expect(ep.header.game.id).toBe('pong');
      expect(verifyEpisode(ep).ok).toBe(true);
    }
  });
});
