import type { Command } from 'commander';
import { readEpisodeFile } from '../../replay/episodes/read-file.js';
import { ReplayMismatchError, verifyEpisode } from '../../replay/episodes/verify.js';
import { formatError } from '../../errors.js';

/** `npcforge replay verify <file...>`: re-simulates recorded episodes; exit 1 on the first mismatch. */
export function registerReplay(program: Command): void {
  const replay = program.command('replay').description('work with recorded episodes (.npcep)');
  replay
    .command('verify <files...>')
    .description('re-simulate episodes from their seed and actions and check that every frame matches')
    .action((files: string[]) => {
      for (const file of files) {
        const ep = readEpisodeFile(file);
        const r = verifyEpisode(ep);
        if (!r.ok) {
          const m = r.mismatch!;
          throw new ReplayMismatchError(formatError(`replay verify ${file}`, `frame ${m.frame} (${m.field}) to match the recording`, m.detail, 'the game is not deterministic given seed and actions, or its rules changed since recording'));
        }
        process.stdout.write(`ok  ${file}: ${ep.header.game.id}, seed ${ep.header.seed ?? 'state'}, ${r.steps} steps, all ${r.frames} frames match\n`);
      }
    });
}
