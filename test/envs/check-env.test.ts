import { describe, expect, it } from 'vitest';
import '../../games/index.js';
import { checkEnv } from '../../src/envs/check-env.js';
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
