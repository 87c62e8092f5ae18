/**
 * The tests are TypeScript too: vitest strips their types without checking them, and the build's
 * tsc covers src/, games/ and bench/ only. `npm run typecheck` (tsconfig.test.json) checks
 * everything, tests included; this runs it so a type error in a test fails the suite.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..');

it('type-checks the tests with the sources (tsconfig.test.json, strict)', () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.test.json')], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  expect(errors).toEqual([]);
  expect(r.status).toBe(0);
}, 240_000);

it('type-checks the viewer app with browser types only (src/render/app/tsconfig.json: DOM, no Node types)', () => {
  // The app imports runtime modules too (the saliency panel loads policies): none may lean on Node's types.
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'src', 'render', 'app', 'tsconfig.json')], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  expect(errors).toEqual([]);
  expect(r.status).toBe(0);
}, 240_000);
