import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compactJson } from '../../src/cli/commands/games.js';
import { listEnvs } from '../../src/envs/registry.js';

afterEach(() => vi.restoreAllMocks());

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out };
}

describe('npcforge games --json', () => {
  it('keeps the Box bounds on one line each (it printed 10,000+ lines for 13 games)', async () => {
    const { code, out } = await run(['games', '--json']);
    expect(code).toBe(0);
    const rows = JSON.parse(out) as Array<{ id: string; observation: { low: unknown[]; high: unknown[] } }>;
    expect(rows.map((r) => r.id)).toEqual(listEnvs().map((e) => e.id));
    const catchRow = rows.find((r) => r.id === 'catch')!;
    expect(catchRow.observation.low).toHaveLength(50);
    expect(out).toContain(`"low": ${JSON.stringify(catchRow.observation.low)}`);
    expect(out.split('\n').length).toBeLessThan(rows.length * 20);
  });

  it('compactJson is JSON.stringify(v, null, 2) except for arrays of primitives', () => {
    const v = { a: [1, 'x', null], b: { c: [], d: [{ e: true }], f: {} }, g: -0.5 };
    expect(JSON.parse(compactJson(v))).toEqual(v);
    expect(compactJson(v)).toBe('{\n  "a": [1,"x",null],\n  "b": {\n    "c": [],\n    "d": [\n      {\n        "e": true\n      }\n    ],\n    "f": {}\n  },\n  "g": -0.5\n}');
  });
});
