import type { Command } from 'commander';
import { listEnvs, make } from '../../envs/registry.js';
import { listMultiAgentEnvs, makeMultiAgent } from '../../envs/multi/registry.js';
import type { SpaceJSON } from '../../envs/spaces.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules } from '../imports.js';

/** JSON indented like `JSON.stringify(v, null, 2)`, but arrays of numbers and strings stay on one line (bounds of a 10x10x10 Box are 1000 numbers). */
export function compactJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((x) => x === null || typeof x !== 'object')) return JSON.stringify(value);
    const inner = indent + '  ';
    return `[\n${value.map((x) => inner + compactJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const inner = indent + '  ';
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** `npcforge games [--json]`: lists registered games. */
export function registerGames(program: Command): void {
  program
    .command('games')
    .description('list the registered games')
    .option('--json', 'print a JSON array instead of a table')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (opts: { json?: boolean; import: string[] }) => {
      // Lists the modules' games with the bundled ones: the quickest check that a module registers.
      await importModules(opts.import);
      const rows = listEnvs().map((e) => {
        const env = make(e.id);
        const row = {
          id: e.id,
          kind: 'single-agent' as const,
          actions: env.spec.actionNames,
          observation: env.observationSpace.toJSON(),
          maxEpisodeSteps: e.maxEpisodeSteps ?? null,
          rewardThreshold: e.rewardThreshold ?? null,
          description: e.description ?? '',
        };
        env.close();
        return row;
      });
      // Multi-agent games follow, marked: their spaces and actions are per agent.
      const multiRows = listMultiAgentEnvs().map((e) => {
        const env = makeMultiAgent(e.id);
        const agents = [...env.possibleAgents];
        const row = {
          id: e.id,
          kind: 'multi-agent' as const,
          agents,
          actions: Object.fromEntries(agents.map((a) => [a, env.spec.actionNames[a] ?? []])),
          observation: Object.fromEntries(agents.map((a) => [a, env.observationSpace(a).toJSON()])),
          maxEpisodeSteps: env.spec.maxEpisodeSteps ?? null,
          description: e.description ?? '',
        };
        env.close();
        return row;
      });
      if (opts.json) {
        process.stdout.write(compactJson([...rows, ...multiRows]) + '\n');
        return;
      }
      const marker = ' [multi-agent]';
      const width = Math.max(...rows.map((r) => r.id.length), ...multiRows.map((r) => r.id.length + marker.length), 4);
      for (const r of rows) {
        process.stdout.write(`${r.id.padEnd(width)}  ${describeSpace(r.observation).padEnd(18)} actions: ${r.actions.join(',')}\n    ${r.description}\n`);
      }
      for (const r of multiRows) {
        const first = r.agents[0]!;
        process.stdout.write(`${(r.id + marker).padEnd(width)}  ${describeSpace(r.observation[first]!).padEnd(18)} agents: ${r.agents.join(',')}; actions: ${r.actions[first]!.join(',')}\n    ${r.description}\n`);
      }
    });
}

/** `[10x10x4] uint8` for a Box, the type name otherwise. */
function describeSpace(json: SpaceJSON): string {
  return json.type === 'Box' ? `[${json.shape.join('x')}] ${json.dtype}` : json.type;
}
