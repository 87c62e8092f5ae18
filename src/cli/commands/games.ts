import type { Command } from 'commander';
import { listEnvs, make } from '../../envs/registry.js';

/** `npcforge games [--json]`: lists registered games. */
export function registerGames(program: Command): void {
  program
    .command('games')
    .description('list the registered games')
    .option('--json', 'print a JSON array instead of a table')
    .action((opts: { json?: boolean }) => {
      const rows = listEnvs().map((e) => {
        const env = make(e.id);
        const row = {
          id: e.id,
          actions: env.spec.actionNames,
          observation: env.observationSpace.toJSON(),
          maxEpisodeSteps: e.maxEpisodeSteps ?? null,
          rewardThreshold: e.rewardThreshold ?? null,
          description: e.description ?? '',
        };
        env.close();
        return row;
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      const width = Math.max(...rows.map((r) => r.id.length), 4);
      for (const r of rows) {
        const shape = r.observation.type === 'Box' ? `[${r.observation.shape.join('x')}] ${r.observation.dtype}` : r.observation.type;
        process.stdout.write(`${r.id.padEnd(width)}  ${shape.padEnd(18)} actions: ${r.actions.join(',')}\n    ${r.description}\n`);
      }
    });
}
