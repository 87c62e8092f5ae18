import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../../games/index.js';
import { listEnvs } from '../../src/envs/registry.js';
import { listAgents } from '../../src/agents/registry.js';
import { resolveRunConfig } from '../../src/train/run-config.js';

/** Resolved run configs of every bundled game x agent x --recurrent, generated from the code before the train blocks moved into the games. */
const BEFORE = JSON.parse(readFileSync(new URL('./fixtures/train-defaults-before.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('training defaults declared by the games', () => {
  it('resolve to the same run config as the per-game tables they replaced, for every bundled game, agent and --recurrent', () => {
    const now: Record<string, unknown> = {};
    for (const { id } of listEnvs()) {
      for (const agent of [undefined, ...listAgents()]) {
        for (const recurrent of [false, true]) {
          const key = `${id} ${agent ?? '(default)'}${recurrent ? ' --recurrent' : ''}`;
          if (!(key in BEFORE)) continue;
          try {
            now[key] = JSON.parse(JSON.stringify(resolveRunConfig({ game: id, agent, recurrent, memoryLimitBytes: 2 ** 50 })));
          } catch (err) {
            now[key] = { error: (err as Error).constructor.name };
          }
        }
      }
    }
    // Every game of the fixture is still bundled, and each combination resolves as before (or fails as before).
    expect(Object.keys(now).sort()).toEqual(Object.keys(BEFORE).sort());
    for (const key of Object.keys(BEFORE)) expect(now[key], key).toEqual(BEFORE[key]);
  });
});
