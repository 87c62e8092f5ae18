import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compactJson } from '../../src/cli/commands/games.js';
import { listEnvs } from '../../src/envs/registry.js';
import { listMultiAgentEnvs } from '../../src/envs/multi/registry.js';

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
    const rows = JSON.parse(out) as Array<{ id: string; kind: string; observation: { low: unknown[]; high: unknown[] } }>;
    expect(rows.filter((r) => r.kind === 'single-agent').map((r) => r.id)).toEqual(listEnvs().map((e) => e.id));
    const catchRow = rows.find((r) => r.id === 'catch')!;
    expect(catchRow.observation.low).toHaveLength(50);
    expect(out).toContain(`"low": ${JSON.stringify(catchRow.observation.low)}`);
    expect(out.split('\n').length).toBeLessThan(rows.length * 20);
  });

  it('lists the multi-agent games after the others, marked, with spaces and actions per agent', async () => {
    const { code, out } = await run(['games', '--json']);
    expect(code).toBe(0);
    const rows = JSON.parse(out) as Array<{ id: string; kind: string; agents?: string[]; actions: unknown; observation: unknown }>;
    const multi = rows.filter((r) => r.kind === 'multi-agent');
    expect(multi.map((r) => r.id)).toEqual(listMultiAgentEnvs().map((e) => e.id));
    expect(rows.slice(-multi.length)).toEqual(multi);
    const tag = multi.find((r) => r.id === 'tag')!;
    expect(tag.agents).toEqual(['chaser_0', 'chaser_1', 'evader']);
    expect(tag.actions).toMatchObject({ evader: ['stay', 'up', 'right', 'down', 'left'] });
    expect(tag.observation).toMatchObject({ chaser_0: { type: 'Box', shape: [10, 10, 4], dtype: 'uint8' } });
    const table = await run(['games']);
    expect(table.out).toMatch(/^tag \[multi-agent\]\s+\[10x10x4\] uint8\s+agents: chaser_0,chaser_1,evader; actions: stay,up,right,down,left$/m);
    expect(table.out).toMatch(/^pong \[multi-agent\]\s+\[40x40x1\] uint8\s+agents: right,left; actions: noop,up,down$/m);
    expect(table.out).toMatch(/^pong\s+\[40x40x1\] uint8\s+actions: noop,up,down$/m);
  });

  it('compactJson is JSON.stringify(v, null, 2) except for arrays of primitives', () => {
    const v = { a: [1, 'x', null], b: { c: [], d: [{ e: true }], f: {} }, g: -0.5 };
    expect(JSON.parse(compactJson(v))).toEqual(v);
    expect(compactJson(v)).toBe('{\n  "a": [1,"x",null],\n  "b": {\n    "c": [],\n    "d": [\n      {\n        "e": true\n      }\n    ],\n    "f": {}\n  },\n  "g": -0.5\n}');
  });
});
