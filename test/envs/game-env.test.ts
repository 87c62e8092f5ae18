import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatchEnv } from '../../games/catch/catch.js';
import { EnvCheckError, checkEnv } from '../../src/envs/check-env.js';
import { canRender, drawFrame, type Env, type RgbFrame } from '../../src/envs/env.js';
import { GameEnv, checkOptions, type StepOutcome } from '../../src/envs/game-env.js';
import { OrderEnforcing } from '../../src/envs/wrappers/order-enforcing.js';
import { Box, Discrete } from '../../src/envs/spaces.js';
import type { SeededRng } from '../../src/envs/rng.js';
import { EnvStateError, InvalidActionError, InvalidConfigError, RenderUnavailableError, ResetNeededError } from '../../src/errors.js';
import { WalkDictEnv, WalkEnv, WalkPixelEnv } from '../fixtures/walk-game.js';

function episode(env: Env<Float32Array, number>, seed: number, actions: number[]): string[] {
  const out = [Array.from(env.reset({ seed }).obs).join(',')];
  for (const a of actions) {
    const r = env.step(a);
    out.push(`${Array.from(r.obs).join(',')}|${r.reward}|${r.terminated}|${r.truncated}`);
    if (r.terminated || r.truncated) break;
  }
  return out;
}

describe('GameEnv guards', () => {
  it('refuses step before the first reset, naming the game', () => {
    expect(() => new WalkEnv().step(1)).toThrow(ResetNeededError);
    expect(() => new WalkEnv().step(1)).toThrow('[test/walk.step] expected reset() before stepping, received step() before the first reset()');
  });

  it('refuses step after the episode ended until reset', () => {
    const env = new WalkEnv({ length: 3 });
    env.reset({ seed: 0 });
    expect(env.step(1).terminated).toBe(true);
    expect(() => env.step(1)).toThrow('received step() after the episode ended; fix: call env.reset()');
    env.reset();
    expect(() => env.step(0)).not.toThrow();
  });

  it('validates actions against the action space in one line naming the action', () => {
    const env = new WalkEnv();
    env.reset({ seed: 0 });
    expect(() => env.step(2)).toThrow(InvalidActionError);
    expect(() => env.step(2)).toThrow(/^\[test\/walk\.step\] expected an action in \{"type":"Discrete","n":2.*received 2; fix/);
    expect(() => env.step(0.5)).toThrow(InvalidActionError);
    // A refused action does not count as a step.
    expect(() => env.step(1)).not.toThrow();
  });

  it('truncates at maxSteps (truncated, not terminated) and then needs a reset', () => {
    const env = new WalkEnv({ length: 10, maxSteps: 3 });
    env.reset({ seed: 1 });
    const flags = [0, 1, 0].map((a) => env.step(a)).map((r) => [r.terminated, r.truncated]);
    expect(flags).toEqual([[false, false], [false, false], [false, true]]);
    expect(() => env.step(0)).toThrow(ResetNeededError);
    expect(() => new WalkEnv({ maxSteps: 0 })).toThrow(InvalidConfigError);
  });

  it('checkOptions names unknown keys and every bad value at once, and fills defaults', () => {
    const schema = { size: { type: 'integer', default: 4, min: 2 }, speed: { type: 'number', default: 0.5 }, wrap: { type: 'boolean', default: false } } as const;
    expect(checkOptions('g', {}, schema)).toEqual({ size: 4, speed: 0.5, wrap: false });
    expect(checkOptions('g', { size: 9, wrap: true }, schema)).toEqual({ size: 9, speed: 0.5, wrap: true });
    const call = (): unknown => checkOptions('g', { sise: 3, size: 1.5, wrap: 'yes' }, schema);
    expect(call).toThrow(InvalidConfigError);
    expect(call).toThrow('[g] expected options size (integer >= 2), speed (number), wrap (boolean) only, received unknown options sise; size 1.5; wrap "yes"; fix: fix or remove the listed options');
    expect(() => new WalkEnv({ length: 2 })).toThrow(/length 2/);
  });
});

describe('GameEnv seeding and state', () => {
  it('reset({seed}) reseeds, reset() continues the stream', () => {
    const starts = (seed: number): number[] => {
      const env = new WalkEnv({ length: 40 });
      const out = [env.reset({ seed }).obs[0]!];
      for (let i = 0; i < 5; i++) out.push(env.reset().obs[0]!);
      return out;
    };
    expect(starts(7)).toEqual(starts(7));
    expect(starts(7)).not.toEqual(starts(8));
    expect(new Set(starts(7)).size).toBeGreaterThan(1);
  });

  it('getState/setState round-trips through JSON: game fields, step count, done flag, RNG', () => {
    const env = new WalkEnv({ length: 12, maxSteps: 6 });
    env.reset({ seed: 3 });
    env.step(1);
    env.step(0);
    const snap = JSON.parse(JSON.stringify(env.getState()));
    expect(snap.game).toMatchObject({ pos: env.pos, done: false, steps: 2 });
    const after = (): string[] => {
      const out: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = env.step(1);
        out.push(`${r.obs[0]}|${r.reward}|${r.terminated}|${r.truncated}`);
        if (r.terminated || r.truncated) break;
      }
      out.push(String(env.reset().obs[0])); // the RNG continues from the restored state
      return out;
    };
    const first = after();
    env.setState(snap);
    expect(after()).toEqual(first);
    // The truncation at step 6 came from the restored step count (2 + 4).
    expect(first[3]).toMatch(/\|false\|true$/);
  });

  it('setState refuses malformed snapshots; state() may not use the base keys', () => {
    const env = new WalkEnv({ maxSteps: 5 });
    expect(() => env.setState({ game: { pos: 1, done: false } })).toThrow(EnvStateError);
    expect(() => env.setState({ game: { pos: 1, done: 'no', steps: 0 } })).toThrow('[test/walk.setState] expected a snapshot {game: {..., done, steps}} from getState()');
    class Clash extends WalkEnv {
      protected override state(): Record<string, unknown> {
        return { pos: this.pos, done: true };
      }
    }
    expect(() => new Clash().getState()).toThrow(EnvStateError);
  });

  it('hands out observations that are never overwritten, without a buffer per step', () => {
    const env = new WalkEnv({ length: 30 });
    const kept = [env.reset({ seed: 0 }).obs];
    for (let i = 0; i < 5; i++) kept.push(env.step(1).obs);
    expect(kept.map((o) => Math.round(o[0]! * 29))).toEqual(kept.map((_, i) => Math.round(kept[0]![0]! * 29) + i));
    expect(new Set(kept.map((o) => o.buffer)).size).toBe(1);
  });
});

describe('catch on GameEnv', () => {
  it('keeps its snapshot shape (episode headers hold it) and refuses steps after the catch', () => {
    const env = new CatchEnv();
    env.reset({ seed: 3 });
    expect(Object.keys(env.getState().game as object)).toEqual(['ballX', 'ballY', 'paddleX', 'done']);
    for (let i = 0; i < 9; i++) env.step(1);
    expect(() => env.step(1)).toThrow(ResetNeededError);
    expect(() => new CatchEnv({ rows: 2 } as never)).toThrow(/rows 2/);
    expect(() => new CatchEnv({ speed: 2 } as never)).toThrow(/unknown options speed/);
    expect(() => env.setState({ game: { ballX: 99, ballY: 0, paddleX: 0, done: false } })).toThrow(EnvStateError);
  });
});

describe('render() is optional', () => {
  it('canRender sees through wrappers; drawFrame and Wrapper.render name the game in one line', () => {
    const walk = new WalkEnv();
    expect(canRender(walk as Env<unknown, unknown>)).toBe(false);
    const wrapped = new OrderEnforcing(walk);
    wrapped.reset({ seed: 0 });
    expect(canRender(wrapped as Env<unknown, unknown>)).toBe(false);
    expect(() => wrapped.render()).toThrow(RenderUnavailableError);
    expect(() => drawFrame(walk)).toThrow('[test/walk] expected a game with render() to draw frames, received a game without render(); fix: add render() to the game, or train and evaluate without recording');
    expect(canRender(new OrderEnforcing(new WalkPixelEnv()) as Env<unknown, unknown>)).toBe(true);
  });
});

describe('checkEnv on GameEnv games', () => {
  it('passes vector (no render), Dict and pixel games given as factories and as instances', () => {
    expect(() => checkEnv(() => new WalkEnv(), { steps: 200 })).not.toThrow();
    expect(() => checkEnv(() => new WalkDictEnv(), { steps: 200 })).not.toThrow();
    expect(() => checkEnv(() => new WalkPixelEnv(), { steps: 200 })).not.toThrow();
    expect(() => checkEnv(new WalkEnv({ maxSteps: 4 }), { steps: 50 })).not.toThrow();
  });

  it('names a game class passed where a factory belongs', () => {
    expect(() => checkEnv(WalkEnv as never)).toThrow('[checkEnv(env)] expected an env or a factory function, received the class WalkEnv; fix: pass () => new WalkEnv()');
  });

  it('trajectories under a seed are reproducible', () => {
    expect(episode(new WalkEnv({ length: 20 }), 5, [1, 1, 0, 1, 0, 0])).toEqual(episode(new WalkEnv({ length: 20 }), 5, [1, 1, 0, 1, 0, 0]));
  });
});

/** A configurable broken game: each flag breaks one part of the contract. */
interface Breaks {
  obsDtype?: boolean;
  dictKey?: boolean;
  nanReward?: boolean;
  flags?: boolean;
  overwrite?: boolean;
  unseeded?: boolean;
  forgetsState?: boolean;
  playsOnAfterDone?: boolean;
  renderSize?: boolean;
  noInfo?: boolean;
}

let unseededCounter = 0;

class BrokenWalk extends GameEnv<Float32Array, number> {
  pos = 0;
  private hidden = 0;
  private readonly shared = new Float32Array(1);
  constructor(private readonly breaks: Breaks) {
    super({ id: 'test/broken', observationSpace: new Box({ shape: [1], dtype: 'float32', low: 0, high: 1 }), actionSpace: new Discrete(2), actionNames: ['left', 'right'] });
  }
  protected onReset(rng: SeededRng): void {
    this.pos = this.breaks.unseeded ? 1 + (unseededCounter++ % 3) : rng.int(1, 4);
    this.hidden = 0;
  }
  protected onStep(action: number): StepOutcome {
    this.pos += action === 1 ? 1 : -1;
    this.hidden++;
    const done = this.pos <= 0 || this.pos >= 5;
    const reward = this.breaks.nanReward ? NaN : this.breaks.forgetsState ? this.hidden : done ? 1 : 0;
    return { reward, terminated: (this.breaks.flags ? 1 : done) as boolean, ...(this.breaks.noInfo ? { info: null as never } : {}) };
  }
  protected observe(): Float32Array {
    const o = this.breaks.overwrite ? this.shared : (this.freshObs() as Float32Array);
    o[0] = this.pos / 5;
    if (this.breaks.obsDtype) return Float64Array.of(o[0]!) as unknown as Float32Array;
    return o;
  }
  render(): RgbFrame {
    const w = this.breaks.renderSize ? 5 + this.pos : 5;
    return { width: w, height: 1, data: new Uint8Array(w * 3) };
  }
  protected state(): Record<string, unknown> {
    return { pos: this.pos };
  }
  protected restore(game: Record<string, unknown>): void {
    this.pos = game.pos as number;
  }
  override step(action: number): ReturnType<GameEnv<Float32Array, number>['step']> {
    if (this.breaks.playsOnAfterDone) {
      try {
        return super.step(action);
      } catch {
        // Forgets that the episode ended and moves on from the final state.
        const snap = this.getState();
        this.setState({ ...snap, game: { ...(snap.game as object), done: false } });
        return super.step(action);
      }
    }
    return super.step(action);
  }
}

function problemsOf(make: () => Env<any, any>): string[] {
  try {
    checkEnv(make, { steps: 80 });
  } catch (err) {
    expect(err).toBeInstanceOf(EnvCheckError);
    return (err as EnvCheckError).problems;
  }
  return [];
}

describe('checkEnv on broken games names each problem', () => {
  it('the unbroken game passes', () => {
    expect(problemsOf(() => new BrokenWalk({}))).toEqual([]);
  });

  it.each([
    ['obsDtype', /observations in observationSpace .*received Float64Array.*expected a Float32Array of 1 values, shape \[1\]/],
    ['nanReward', /expected a numeric reward, received NaN/],
    ['flags', /expected boolean terminated and truncated, received 1, false/],
    ['overwrite', /expected earlier observations to stay unchanged after step\(\)/],
    ['unseeded', /expected identical episodes for the same seed and actions/],
    ['forgetsState', /expected the same steps after setState\(getState\(\)\)/],
    ['playsOnAfterDone', /expected step\(\) after the episode ended to throw/],
    ['renderSize', /expected a stable render shape \d+x1, received \d+x1/],
    ['noInfo', /expected step\(\) to return an info object/],
  ] as const)('%s', (flag, pattern) => {
    const problems = problemsOf(() => new BrokenWalk({ [flag]: true }));
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems.join('\n')).toMatch(pattern);
    for (const p of problems) expect(p).toMatch(/^\[checkEnv\(test\/broken\)\] expected .*, received .*; fix: /);
  });

  it('lists every problem of a game with several, one line each, in one error', () => {
    let message = '';
    try {
      checkEnv(() => new BrokenWalk({ nanReward: true, overwrite: true, renderSize: true }), { steps: 80 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')[0]).toBe('[checkEnv(test/broken)] 3 problems:');
    expect(message).toMatch(/numeric reward/);
    expect(message).toMatch(/unchanged after step/);
    expect(message).toMatch(/stable render shape/);
  });

  it('names the Dict key whose values break the space', () => {
    class BadDict extends WalkDictEnv {
      protected override observe(): Record<string, unknown> {
        const o = super.observe();
        return { ...o, where: Float32Array.of(2) };
      }
    }
    expect(problemsOf(() => new BadDict()).join('\n')).toMatch(/received key 'where': value 2 at index 0 outside \[0, 1\]/);
  });
});

describe('the authoring kit from the package root', () => {
  it("exports GameEnv, checkOptions, canRender, drawFrame and RenderUnavailableError from 'npcforge' (built package)", () => {
    const script = [
      "import { GameEnv, checkOptions, canRender, drawFrame, RenderUnavailableError, checkEnv, make } from 'npcforge';",
      "console.log(JSON.stringify([GameEnv, checkOptions, canRender, drawFrame, RenderUnavailableError].map((x) => typeof x).concat(canRender(make('catch')))));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['function', 'function', 'function', 'function', 'function', true]);
  });
});
