/**
 * Does DQN (or PPO) fed by distributed actors learn as well per frame as the single-process run?
 * (`npm run bench -- distributed-learning`, long CPU work: hours for the default DQN budget;
 * `npm run bench -- distributed-learning --agent ppo --game catch` takes minutes.)
 * For each seed: `train <game> --agent <agent> --steps N --seed s` in one process, then the same with
 * `--distributed` and `--actors` `npcforge actor` processes, on a redis-server this script starts.
 * Prints each run's evaluation returns at the same steps (frames) and their mean over the seeds.
 * Flags: --agent dqn|ppo (dqn) --game (minatar/breakout) --steps (the game's default) --seeds 0,1,2
 * --actors 2 --envs 4 --max-backlog <n> (the actors' flag; default theirs)
 * --config <json> (extra train settings for both) --out <dir> (kept; default a temp folder, removed)
 * --json <file> (every run's evaluation curve, wall time and the load averages).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from './redis-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'bin', 'npcforge.js');

function flag(argv: string[], name: string, def: string | undefined): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
}


function run(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((ok) => child.on('close', (code) => ok(code)));
}

/** Evaluation returns by step of the one run under `dir`. */
function evals(dir: string): Map<number, number> {
  const sub = readdirSync(dir)[0];
  const out = new Map<number, number>();
  if (!sub || !existsSync(join(dir, sub, 'metrics.jsonl'))) return out;
  for (const line of readFileSync(join(dir, sub, 'metrics.jsonl'), 'utf8').trim().split('\n')) {
    const m = JSON.parse(line) as { step: number; eval_return: number | null };
    if (m.eval_return !== null) out.set(m.step, m.eval_return);
  }
  return out;
}

/** The evaluation at or just after each step of `steps` (distributed runs evaluate at batch boundaries). */
function at(curve: Map<number, number>, step: number): number | null {
  let best: [number, number] | null = null;
  for (const [s, v] of curve) if (s >= step && (best === null || s < best[0])) best = [s, v];
  return best ? best[1] : null;
}

async function main(argv: string[]): Promise<void> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  const agent = flag(argv, 'agent', 'dqn')!;
  if (agent !== 'dqn' && agent !== 'ppo') throw new Error(`--agent ${agent}: want dqn or ppo (the agents actors feed)`);
  const game = flag(argv, 'game', 'minatar/breakout')!;
  const backlog = flag(argv, 'max-backlog', undefined);
  const steps = flag(argv, 'steps', undefined);
  const seeds = flag(argv, 'seeds', '0,1,2')!.split(',').map(Number);
  const actors = Number(flag(argv, 'actors', '2'));
  const envs = flag(argv, 'envs', '4')!;
  const config = flag(argv, 'config', undefined);
  const keep = flag(argv, 'out', undefined);
  const out = keep ?? mkdtempSync(join(tmpdir(), 'npcbench-distlearn-'));
  const server = await startRedis();
  const { port } = server;
  const common = ['--agent', agent, '--no-progress', ...(steps ? ['--steps', steps] : []), ...(config ? ['--config', config] : [])];
  const json = flag(argv, 'json', undefined);
  const curves: Array<{ seed: number; single: Map<number, number>; distributed: Map<number, number>; wall: { single: number; distributed: number }; load: number[] }> = [];
  try {
    for (const seed of seeds) {
      process.stderr.write(`distributed-learning: seed ${seed}: single process (load ${loadavg()[0]!.toFixed(2)})\n`);
      const single = join(out, `single-s${seed}`);
      const load = [loadavg()[0]!];
      const t0 = Date.now();
      if ((await run(['train', game, ...common, '--seed', String(seed), '--out', single])) !== 0) throw new Error(`single-process run of seed ${seed} failed`);
      process.stderr.write(`distributed-learning: seed ${seed}: learner + ${actors} actors (load ${loadavg()[0]!.toFixed(2)})\n`);
      const singleWall = (Date.now() - t0) / 1000;
      load.push(loadavg()[0]!);
      const dist = join(out, `distributed-s${seed}`);
      const t1 = Date.now();
      const url = `redis://127.0.0.1:${port}/learn-s${seed}`;
      const learner = run(['train', game, ...common, '--seed', String(seed), '--distributed', url, '--out', dist]);
      // Actors wait for the learner's meta; they exit 0 when it is done.
      const feeders = Array.from({ length: actors }, () => run(['actor', url, '--envs', envs, ...(backlog ? ['--max-backlog', backlog] : [])]));
      const [code] = await Promise.all([learner, ...feeders]);
      if (code !== 0) throw new Error(`distributed run of seed ${seed} failed`);
      load.push(loadavg()[0]!);
      curves.push({ seed, single: evals(single), distributed: evals(dist), wall: { single: singleWall, distributed: (Date.now() - t1) / 1000 }, load });
    }
  } finally {
    await server.stop();
    if (!keep) rmSync(out, { recursive: true, force: true });
  }
  const points = [...curves[0]!.single.keys()].sort((a, b) => a - b);
  process.stdout.write(`distributed-learning: ${game}, ${agent}, ${actors} actors x ${envs} envs${backlog ? ` (max backlog ${backlog})` : ''} vs one process; eval return at each evaluation step (frames)\n`);
  process.stdout.write(`${'step'.padStart(10)} ${curves.map((c) => `single s${c.seed}`.padStart(10) + `dist s${c.seed}`.padStart(10)).join(' ')} ${'mean single'.padStart(12)} ${'mean dist'.padStart(10)}\n`);
  for (const step of points) {
    const s = curves.map((c) => c.single.get(step) ?? null);
    const d = curves.map((c) => at(c.distributed, step));
    const mean = (xs: Array<number | null>): string => (xs.every((x) => x !== null) ? (xs.reduce((a, b) => a! + b!, 0)! / xs.length).toFixed(2) : '-');
    process.stdout.write(`${String(step).padStart(10)} ${curves.map((_, i) => String(s[i]?.toFixed(2) ?? '-').padStart(10) + String(d[i]?.toFixed(2) ?? '-').padStart(10)).join(' ')} ${mean(s).padStart(12)} ${mean(d).padStart(10)}\n`);
  }
  for (const c of curves) process.stdout.write(`seed ${c.seed}: wall ${c.wall.single.toFixed(0)} s single, ${c.wall.distributed.toFixed(0)} s distributed; load ${c.load.map((l) => l.toFixed(2)).join(' -> ')}\n`);
  if (json) {
    const obj = (m: Map<number, number>): Record<string, number> => Object.fromEntries([...m].map(([k, v]) => [String(k), v]));
    writeFileSync(json, JSON.stringify({ game, agent, actors, envs: Number(envs), steps: steps ? Number(steps) : null, runs: curves.map((c) => ({ seed: c.seed, wall_s: c.wall, load: c.load, single: obj(c.single), distributed: obj(c.distributed) })) }, null, 1));
  }
}

await main(process.argv.slice(2));
