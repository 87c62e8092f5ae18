/**
 * `npm run bench -- <name> [--json out.json] [...]`: runs one benchmark. Two kinds: modules that
 * export `bench: Bench` (run in this process) and standalone scripts (run as a child process with
 * the same arguments). To add one, add a line to a table below.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './harness.js';
import { parseBenchArgs } from './harness.js';
import '../games/index.js';

const benches: Record<string, () => Promise<{ bench: Bench }>> = {
  env: () => import('./env.js'),
  'multi-agent-env': () => import('./multi-agent-env.js'),
  runtime: () => import('./runtime.js'),
  'act-batch': () => import('./act-batch.js'),
  ppo: () => import('./ppo.js'),
  memory: () => import('./memory.js'),
  'ppo-cartpole': () => import('./ppo-cartpole.js'),
  sac: () => import('./sac.js'),
  'install-size': () => import('./install-size.js'),
  'ppo-vs-torch': () => import('./ppo-vs-torch.js'),
  'ppo-batch': () => import('./ppo-batch.js'),
  'arena-page': () => import('./arena-page.js'),
  'selfplay-pong': () => import('./selfplay-pong.js'),
  'selfplay-tag': () => import('./selfplay-tag.js'),
  ladder: () => import('./ladder.js'),
  'onnx-act': () => import('./onnx-act.js'),
  saliency: () => import('./saliency.js'),
  'view-curves': () => import('./view-curves.js'),
  'supervised-imbalance': () => import('./supervised-imbalance.js'),
};

/** Standalone benchmark scripts in dist/bench, with their one-line descriptions. */
const scripts: Record<string, { file: string; description: string }> = {
  'minatar-speed': { file: 'minatar-speed.js', description: 'MinAtar steps/s (grid) and frames/s (rgb) against the 5x-original floors' },
  backend: { file: 'backend.js', description: 'train-step and act ms of the four reference nets per backend, side by side with PyTorch when present' },
  dqn: { file: 'dqn.js', description: 'DQN updates/s and env steps/s (MinAtar net, Nature net), replay bytes per transition' },
  'dqn-cartpole': { file: 'dqn-cartpole.js', description: 'DQN on cartpole with the default settings: eval return over 100 episodes (long)' },
  'dqn-frame': { file: 'dqn-frame.js', description: 'a MinAtar DQN training frame by phase (env, act, replay add, sample, update, target sync, eval, metrics): wall and CPU ms per frame' },
  'minatar-dqn': { file: 'minatar-dqn.js', description: 'the MinAtar-paper DQN preset on --game G --frames N, writes the learning curve (long)' },
  episodes: { file: 'episodes.bench.js', description: 'episode file bytes per 1,000 steps per game, recording cost, seek time' },
  'view-runs': { file: 'view-runs.bench.js', description: 'view server /api/runs with 500 runs x 20 episodes: cold, cached, after one change' },
  'view-episodes': { file: 'view-episodes.bench.js', description: 'view episode list (return and length of 200 CartPole episodes from header and end record): cold, cached, vs reading whole files' },
  seeds: { file: 'seeds.js', description: 'one setting over --seeds 0-4 (e.g. --game memory-maze --agent ppo --recurrent): each seed\'s final eval and wall time, worst vs best (long)' },
  distributed: { file: 'distributed.js', description: 'transitions/s into a distributed DQN learner from 1, 2, 4 actor processes vs the Redis transport ceiling (needs redis-server; --game --seconds --actors)' },
  'distributed-learning': { file: 'distributed-learning.js', description: 'DQN or PPO (--agent) with --actors distributed actors vs one process on --game G, --seeds 0,1,2: eval return per frame (long for dqn)' },
  'text-models': { file: 'text-models.js', description: 'every text model (nb-tfidf ... gru) on sentiment and spam over --seeds 0-4: held-out accuracy per seed, mean, spread (long)' },
  'sigterm-resume': { file: 'sigterm-resume.js', description: 'SIGTERM `train catch` at random moments 20 times, resuming each time: every stop checkpoints, metrics have no gap (acceptance, ~2-3 min)' },
};

const here = dirname(fileURLToPath(import.meta.url));

/** Runs the named benchmark; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name && name in scripts) {
    const r = spawnSync(process.execPath, [join(here, scripts[name]!.file), ...rest], { stdio: 'inherit' });
    return r.status ?? 1;
  }
  if (!name || name === '--help' || !(name in benches)) {
    const out = name && name !== '--help' ? process.stderr : process.stdout;
    if (name && name !== '--help') out.write(`bench: unknown benchmark '${name}'\n`);
    out.write('usage: npm run bench -- <name> [--json out.json] [flags]\n');
    for (const [n, load] of Object.entries(benches)) out.write(`  ${n.padEnd(14)} ${(await load()).bench.description}\n`);
    for (const [n, s] of Object.entries(scripts)) out.write(`  ${n.padEnd(14)} ${s.description}\n`);
    return name && name !== '--help' ? 2 : 0;
  }
  const { bench } = await benches[name]!();
  await bench.run(parseBenchArgs(rest));
  return 0;
}
