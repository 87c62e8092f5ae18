import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readEpisodeFile } from '../../replay/episodes/read-file.js';
import { ReplayMismatchError, verifyEpisode } from '../../replay/episodes/verify.js';
import { UnknownEnvError, formatError } from '../../errors.js';
import { isRegistered } from '../../envs/registry.js';
import { isMultiAgentRegistered } from '../../envs/multi/registry.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules, requireGame } from '../imports.js';

/** The run folder holding an episode at `<run>/episodes/<file>`, or null. */
function enclosingRun(file: string): string | null {
  const dir = dirname(resolve(file));
  if (basename(dir) !== 'episodes') return null;
  const run = dirname(dir);
  return existsSync(join(run, 'config.json')) ? run : null;
}

/** `npcforge replay verify <file...>`: re-simulates recorded episodes; exit 1 on the first mismatch. */
export function registerReplay(program: Command): void {
  const replay = program.command('replay').description('work with recorded episodes (.npcep)');
  replay
    .command('verify <files...>')
    .description('re-simulate episodes from their seed and actions and check that every frame matches')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .action(async (files: string[], f: { import: string[] }) => {
      const imports = await importModules(f.import);
      for (const file of files) {
        const ep = readEpisodeFile(file);
        // An episode inside a run folder (<run>/episodes/x.npcep) imports the run's modules; the
        // episode's own metadata is never trusted to name code to run.
        const runDir = enclosingRun(file);
        const all = runDir ? [...imports, ...(await importRunModules(runDir))] : imports;
        // Multi-agent episodes are rebuilt with makeMultiAgent (verifyEpisode names an unknown id).
        const id = ep.header.game.id;
        if (!ep.agents && !isRegistered(id) && isMultiAgentRegistered(id)) {
          // Single-agent files named after a multi-agent-only game (tag evaluation episodes of earlier versions): make() cannot rebuild them.
          throw new UnknownEnvError(formatError(`replay verify ${file}`, `a single-agent game to rebuild (make()), or a multi-agent episode`, `a single-agent episode of ${JSON.stringify(id)}, a multi-agent-only game (recorded by an earlier npcforge)`, `record it again as a multi-agent episode: npcforge record <run> --opponent random`));
        }
        if (!ep.agents) requireGame(id, all);
        const r = verifyEpisode(ep);
        if (!r.ok) {
          const m = r.mismatch!;
          const at = m.step === null ? `frame 0 (after reset, ${m.field})` : `step ${m.step} (frame ${m.frame}, ${m.field}${m.agent ? ` of ${m.agent}` : ''})`;
          throw new ReplayMismatchError(formatError(`replay verify ${file}`, `${at} to match the recording`, m.detail, 'the game is not deterministic given seed and actions, or its rules changed since recording'));
        }
        const agents = ep.agents ? `, ${ep.agents.length} agents (${ep.agents.map((a) => a.name).join(', ')})` : '';
        process.stdout.write(`ok  ${file}: ${ep.header.game.id}${agents}, seed ${ep.header.seed ?? 'state'}, ${r.steps} steps, all ${r.frames} frames match\n`);
      }
    });
}
