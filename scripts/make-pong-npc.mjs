// Regenerates the committed pong NPC bundle (examples/pong/npc/): a short DQN run on pong's
// state observation with ball-tracking shaping, exported for npcforge/runtime.
// Usage: node scripts/make-pong-npc.mjs [--steps 10000] [--seed 1] [--out examples/pong/npc]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIfStale } from './build-if-stale.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
buildIfStale(root);
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
await dist('games/index.js');
const { resolveRunConfig, train } = await dist('src/train/index.js');
const { exportPolicy } = await dist('src/export/index.js');

const steps = Number(arg('steps', '10000'));
const seed = Number(arg('seed', '1'));
const out = arg('out', join(root, 'examples', 'pong', 'npc'));
const config = resolveRunConfig({
  game: 'pong',
  preset: 'classic',
  flags: { steps, seed, envOptions: { obsType: 'state', trackReward: 1 }, evalEvery: 0, evalEpisodes: 3, checkpointEvery: 0, logEvery: 1000 },
  file: {
    learningStarts: 500,
    epsilonDecaySteps: Math.round(steps * 0.5),
    epsilonEnd: 0.05,
    targetUpdateEvery: 100,
    trainEvery: 2,
    batchSize: 64,
  },
});
const tmp = mkdtempSync(join(tmpdir(), 'npcforge-pong-npc-'));
try {
  const res = await train({ config, outDir: tmp, progress: process.stderr });
  const r = await exportPolicy({ runDir: res.runDir, outDir: out });
  process.stdout.write(`pong NPC: ${steps} steps, eval return ${r.policy.evalReturn}, bundle ${out} (${r.weightBytes} weight bytes)\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
