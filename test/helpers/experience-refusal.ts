/** The refusal both experience test files expect of a bad entry: an ExperienceError of one line naming the entry. */
import { expect } from 'vitest';
import { decodeExperience, ExperienceError, type ExperienceExpect } from '../../src/distributed/experience.js';

export function expectRefused(raw: Uint8Array, exp: ExperienceExpect, message: RegExp): void {
  let err: unknown;
  try {
    decodeExperience(raw, exp, 'entry 7-0');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ExperienceError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).toMatch(/^\[experience\] expected .* in entry 7-0; fix: /);
  expect((err as Error).message).not.toContain('\n');
}
