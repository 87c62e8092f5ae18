// Regenerates the committed arena NPC bundle (examples/arena/npc/) with the CLI, exactly as the
// example's README tells a user: train the game's declared default (PPO) from its module with
// --import, then export with a decision period of 4 frames (the page runs at 60 fps; one training
// step is one decision).
// Usage: node scripts/make-arena-npc.mjs [--seed 0] [--out examples/arena/npc]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const seed = arg('seed', '0');
const out = arg('out', join('examples', 'arena', 'npc'));
const cli = (...args) => execFileSync(process.execPath, [join(root, 'bin', 'npcforge.js'), ...args], { cwd: root, stdio: 'inherit' });

const runs = mkdtempSync(join(tmpdir(), 'npcforge-arena-npc-'));
try {
  cli('train', 'arena', '--import', './examples/arena/arena.mjs', '--seed', seed, '--out', runs);
  const [run] = readdirSync(runs).filter((d) => d.startsWith(`arena__ppo__s${seed}__`));
  // The run remembers its module, so export needs no --import.
  cli('export', join(runs, run), '--out', out, '--decision-period', '4');
} finally {
  rmSync(runs, { recursive: true, force: true });
}
