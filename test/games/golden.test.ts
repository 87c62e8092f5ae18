/**
 * Golden traces: replays every *.json in GOLDEN_DIR (default test/fixtures/golden/minatar), whatever
 * the file names. CartPole traces set the float64 state directly; MinAtar traces are replayed by
 * `replayMinatarTrace` (deterministic and rng_replay kinds).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CartPoleEnv } from '../../games/cartpole/cartpole.js';
import { BreakoutGame } from '../../games/minatar/breakout.js';
import { FreewayGame } from '../../games/minatar/freeway.js';
import type { MinAtarGameName } from '../../games/minatar/game.js';
import { MINATAR_GAMES, MinAtarEnv, createMinAtarGame } from '../../games/minatar/minatar-env.js';
import { MT19937 } from '../../src/envs/rng.js';
import { DEFAULT_GOLDEN_DIR, goldenTraces } from '../fixtures/golden-dir.js';

// An empty or missing folder throws here, so the whole file fails with that one line.
const { dir, files } = goldenTraces();

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

interface MinAtarStep {
  t: number;
  action?: number;
  applied_action?: number;
  reward?: number;
  terminal?: boolean;
  obs: number[][][];
  debug?: Record<string, unknown>;
}

interface MinAtarTrace {
  game: MinAtarGameName;
  kind: 'deterministic' | 'rng_replay';
  sticky_action_prob: number;
  difficulty_ramping: boolean;
  channels: string[];
  actions: number[];
  rng?: { seed: number };
  steps: MinAtarStep[];
}

/** Compares one observation; on a mismatch says where it first differs. */
function compareObs(got: Uint8Array, want: number[][][], channels: string[], where: () => string): void {
  const C = channels.length;
  if (got.length !== 100 * C) throw new Error(`${where()}: obs has ${got.length} values, expected ${100 * C} (10x10x${C})`);
  for (let row = 0; row < 10; row++) {
    for (let col = 0; col < 10; col++) {
      for (let ch = 0; ch < C; ch++) {
        const w = want[row]![col]![ch]!;
        const g = got[(row * 10 + col) * C + ch]!;
        if (g !== w) {
          throw new Error(`${where()}: obs first differs at row ${row}, col ${col}, channel ${ch} (${channels[ch]}): expected ${w}, got ${g}`);
        }
      }
    }
  }
}

/** Replays a MinAtar trace of either kind; throws a descriptive error at the first mismatch. */
function replayMinatarTrace(trace: MinAtarTrace): void {
  if (!MINATAR_GAMES.includes(trace.game)) throw new Error(`unknown MinAtar game ${JSON.stringify(trace.game)}`);
  let channels: readonly string[];
  let observe: () => Uint8Array;
  let act: (a: number) => { reward: number; terminal: boolean; applied: number };
  let state: () => unknown;
  if (trace.kind === 'deterministic') {
    const g = createMinAtarGame(trace.game, { ramping: trace.difficulty_ramping });
    g.reset(new MT19937(0));
    // Forced starts (golden README): the recorded debug of step 0 fixes what reset would draw.
    const d0 = trace.steps[0]!.debug ?? {};
    if (g instanceof BreakoutGame && typeof d0.ball_x === 'number') g.forceStart(d0.ball_x as number, d0.ball_y as number, d0.ball_dir as number);
    if (g instanceof FreewayGame && Array.isArray(d0.cars_x_row_timer_speed)) g.forceCars(d0.cars_x_row_timer_speed as Array<[number, number, number, number]>);
    channels = g.channels;
    observe = () => {
      const o = new Uint8Array(100 * g.channels.length);
      g.writeObs(o);
      return o;
    };
    act = (a) => ({ reward: g.step(a), terminal: g.terminal, applied: a });
    state = () => g.getState();
  } else if (trace.kind === 'rng_replay') {
    const e = new MinAtarEnv({ game: trace.game, stickyActionProb: trace.sticky_action_prob, difficultyRamping: trace.difficulty_ramping, minimalActions: false });
    let obs = e.reset({ seed: trace.rng!.seed }).obs;
    channels = e.channels;
    observe = () => obs;
    act = (a) => {
      const r = e.step(a);
      obs = r.obs;
      return { reward: r.reward, terminal: r.terminated, applied: e.lastAction };
    };
    state = () => e.getState().game;
  } else {
    throw new Error(`unknown trace kind ${JSON.stringify((trace as { kind: unknown }).kind)}`);
  }
  expect([...channels], 'channel names').toEqual(trace.channels);
  const context = (step: MinAtarStep): string =>
    `\n  trace debug: ${JSON.stringify(step.debug)}\n  our state: ${JSON.stringify(state()).slice(0, 1500)}`;
  let total = 0;
  compareObs(observe(), trace.steps[0]!.obs, trace.channels, () => `step 0 (after reset)${context(trace.steps[0]!)}`);
  for (let k = 1; k < trace.steps.length; k++) {
    const step = trace.steps[k]!;
    const action = step.action ?? trace.actions[k - 1]!;
    const r = act(action);
    total += r.reward;
    const where = (field: string): string => `step ${step.t}, field ${field}${context(step)}`;
    if (step.applied_action !== undefined && r.applied !== step.applied_action) throw new Error(`${where('applied_action')}: expected ${step.applied_action}, got ${r.applied}`);
    if (r.reward !== step.reward) throw new Error(`${where('reward')}: expected ${step.reward}, got ${r.reward}`);
    if (r.terminal !== step.terminal) throw new Error(`${where('terminal')}: expected ${step.terminal}, got ${r.terminal}`);
    compareObs(observe(), step.obs, trace.channels, () => where('obs'));
  }
  if (typeof (trace as { total_reward?: number }).total_reward === 'number') expect(total, 'total_reward').toBe((trace as { total_reward?: number }).total_reward);
}

describe(`golden traces in ${dir}`, () => {
  it('the folder holds at least one trace', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const f of files) {
    it(basename(f), () => {
      const trace = JSON.parse(readFileSync(f, 'utf8'));
      if (trace.game === 'cartpole') replayCartPole(trace);
      else if (MINATAR_GAMES.includes(trace.game)) replayMinatarTrace(trace);
      else throw new Error(`no replayer for game ${JSON.stringify(trace.game)} (${basename(f)})`);
    });
  }
});

describe('golden trace folder', () => {
  it('defaults to the copy inside the repository, not a folder outside it', () => {
    const { dir: d, files: fs } = goldenTraces({});
    expect(d).toBe(DEFAULT_GOLDEN_DIR);
    expect(d.startsWith(join(__dirname, '..', '..'))).toBe(true);
    expect(fs.map((f) => basename(f))).toContain('breakout_start0_long.json');
  });

  it('fails with a clear message when GOLDEN_DIR is an empty folder or missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'npcforge-golden-'));
    try {
      expect(() => goldenTraces({ GOLDEN_DIR: empty })).toThrow(`[golden] expected at least one *.json trace in GOLDEN_DIR, received none in ${empty}`);
      expect(() => goldenTraces({ GOLDEN_DIR: join(empty, 'nope') })).toThrow('missing or not a folder');
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});
