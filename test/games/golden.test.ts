/**
 * Golden traces: replays every *.json in GOLDEN_DIR (default ../shared/golden/minatar), whatever
 * the file names. CartPole traces set the float64 state directly; MinAtar traces are replayed by
 * `replayMinatarTrace` (deterministic and rng_replay kinds).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CartPoleEnv } from '../../games/cartpole/cartpole.js';

const dir = resolve(process.env.GOLDEN_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'golden', 'minatar'));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

interface CartPoleStep { t: number; action: number; reward: number; terminated: boolean; truncated: boolean; state_f64: number[]; obs_f32: number[] }

function replayCartPole(trace: { initial_state: { state_f64: number[] }; steps: CartPoleStep[] }): void {
  const env = new CartPoleEnv();
  env.reset({ options: { state: trace.initial_state.state_f64 } });
  let worst = 0;
  for (const [k, step] of trace.steps.entries()) {
    if (k === 0) continue;
    const r = env.step(step.action);
    const truncated = k >= 500; // CartPole-v1 = env + TimeLimit(500)
    const where = `step ${step.t}`;
    expect(r.reward, where).toBe(step.reward);
    expect(r.terminated, where).toBe(step.terminated);
    expect(truncated, where).toBe(step.truncated);
    for (let i = 0; i < 4; i++) {
      worst = Math.max(worst, Math.abs(env.state[i]! - step.state_f64[i]!), Math.abs(r.obs[i]! - step.obs_f32[i]!));
    }
    expect(worst, where).toBeLessThanOrEqual(1e-6);
  }
}

describe(`golden traces in ${dir}`, () => {
  it('the folder holds at least one trace', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const f of files) {
    it(f, () => {
      const trace = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (trace.game === 'cartpole') replayCartPole(trace);
      else throw new Error(`no replayer for game ${JSON.stringify(trace.game)} (${f})`);
    });
  }
});
