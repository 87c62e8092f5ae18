import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { EnvCheckError, checkEnv } from '../../src/envs/check-env.js';
import { listEnvs, make } from '../../src/envs/registry.js';

// Iterates the registry, so games added later are covered without editing this file.
const ids = listEnvs().map((e) => e.id);

describe('checkEnv on every registered game', () => {
  it('finds the bundled games', () => {
    expect(ids).toEqual(expect.arrayContaining(['catch', 'cartpole']));
  });

  it.each(ids)('%s passes', (id) => {
    expect(() => checkEnv(() => make(id), { steps: 300 })).not.toThrow();
  });

  it.each(ids.filter((id) => 'obsType' in (listEnvs().find((e) => e.id === id)?.options ?? {})))('%s passes with obsType rgb', (id) => {
    expect(() => checkEnv(() => make(id, { obsType: 'rgb' }), { steps: 40 })).not.toThrow();
  });
});

describe('checkEnv arguments', () => {
  it('accepts an env as well as a factory, and leaves a given env open', () => {
    const env = make('catch');
    expect(() => checkEnv(env, { steps: 60 })).not.toThrow();
    // Still usable: the caller owns it.
    expect(env.reset({ seed: 1 }).obs.length).toBeGreaterThan(0);
    expect(() => env.step(0)).not.toThrow();
    env.close();
    expect(() => checkEnv(() => make('catch'), { steps: 60 })).not.toThrow();
  });

  it('accepts an env that was already stepped (the seed, not the history, decides)', () => {
    const env = make('minatar/breakout');
    env.reset({ seed: 9 });
    for (let i = 0; i < 5; i++) env.step(2);
    expect(() => checkEnv(env, { steps: 120 })).not.toThrow();
  });

  it('finds a non-deterministic env given as an instance', () => {
    const env = make('catch');
    const reset = env.reset.bind(env);
    let calls = 0;
    // Ignores the seed on the second seeded reset, as an env with an unseeded RNG would.
    env.reset = (args = {}) => reset(args.seed !== undefined && ++calls === 2 ? { seed: args.seed + 1 } : args);
    expect(() => checkEnv(env, { steps: 60 })).toThrow(EnvCheckError);
  });

  it('rejects what is neither an env nor a factory, naming it', () => {
    expect(() => checkEnv(42 as never)).toThrow(EnvCheckError);
    expect(() => checkEnv({ reset() {} } as never)).toThrow('[checkEnv(env)] expected an Env (with reset and step) or a function returning one, received {}');
    expect(() => checkEnv((() => null) as never)).toThrow('the factory to return an Env');
  });
});
