/**
 * `npm run bench -- ppo-batch` (issue 17, the large-batch PPO path): train frames/s of PPO with
 * the game's preset for envs {8, 32, 64, 128} x vector env {sync, workers} on MinAtar Breakout
 * and on Pong rendered at 84x84 (the pixel case: a frame costs more to make than a 10x10 grid).
 *
 * Each cell is one `npcforge train` child process (one wasm thread for the matrix products:
 * NPCFORGE_WASM_THREADS=1), a fixed number of frames rounded up to whole rollouts, no evaluation,
 * no metrics line or checkpoint before the end. Train frames/s = frames / the training loop's wall
 * time (`wall_time_s` of the final metrics line: process start, imports, worker start-up and the
 * final checkpoint excluded). The same seed in every cell; each cell reports its final loss, so the
 * sync and workers cells of one game and env count can be checked for the same run.
 *
 * Flags: --envs 8,32,64,128 --modes sync,workers --games breakout,pong84 --frames-breakout N (65536)
 *   --frames-pong N (16384) --seed N (0) --json FILE
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError, formatError, describe } from '../src/errors.js';
import { type Bench, type BenchArgs, printTable, writeJson } from './harness.js';

// This module runs compiled from dist/bench (npm run bench) and as source from bench/ (tests).
const REPO_ROOT = new URL(import.meta.url.includes('/dist/bench/') ? '../../' : '../', import.meta.url);
const BIN = fileURLToPath(new URL('bin/npcforge.js', REPO_ROOT));

/** The games of the table: registry id and env options. */
export const PPO_BATCH_GAMES: Record<string, { game: string; envOptions: Record<string, unknown> }> = {
  breakout: { game: 'minatar/breakout', envOptions: {} },
  pong84: { game: 'pong', envOptions: { width: 84, height: 84 } },
};

/** PPO preset rollout length of both games (numSteps); frames are rounded up to whole rollouts of envs x this. */
const NUM_STEPS = 128;

export interface PpoBatchCell {
  game: string;
  envs: number;
  mode: 'sync' | 'workers';
  frames: number;
  wallS: number;
  framesPerS: number;
  /** Loss of the final metrics line (equal across modes for one game and env count: the same run). */
  loss: number | null;
}

function listFlag(args: BenchArgs, name: string, fallback: string[], allowed?: string[]): string[] {
  const v = args.flags[name];
  const list = v === undefined ? fallback : v.split(',').map((x) => x.trim()).filter(Boolean);
  if (allowed) for (const x of list) if (!allowed.includes(x)) throw new InvalidConfigError(formatError('bench ppo-batch', `--${name} from ${allowed.join(', ')}`, describe(x), `pass e.g. --${name} ${fallback.join(',')}`));
  return list;
}

function intFlag(args: BenchArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidConfigError(formatError('bench ppo-batch', `--${name} a positive integer`, describe(v), `pass e.g. --${name} ${fallback}`));
  return n;
}

/** Trains one cell in a child process; frames/s from the run's final metrics line. */
function runCell(name: string, envs: number, mode: 'sync' | 'workers', frames: number, seed: number): PpoBatchCell {
  const g = PPO_BATCH_GAMES[name]!;
  const dir = mkdtempSync(join(tmpdir(), 'npcforge-ppo-batch-'));
  try {
    const configPath = join(dir, 'config.json');
    // No evaluation, no metrics line or checkpoint until the last step: the loop's clock measures training.
    writeFileSync(configPath, JSON.stringify({ envOptions: g.envOptions, evalEpisodes: 0, checkpointEvery: 0, logEvery: frames }));
    const args = [BIN, 'train', g.game, '--agent', 'ppo', '--envs', String(envs), '--vector-env', mode, '--steps', String(frames), '--seed', String(seed), '--config', configPath, '--out', dir, '--no-progress'];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NPCFORGE_WASM_THREADS: '1' } });
    if (r.status !== 0) throw new Error(`bench ppo-batch: ${name} envs ${envs} ${mode} exited ${r.status}: ${r.stderr.slice(-400)}`);
    const run = readdirSync(dir).find((d) => d.includes('__ppo__'))!;
    const lines = readFileSync(join(dir, run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1]!) as { step: number; wall_time_s: number; loss: number | null };
    return { game: name, envs, mode, frames: last.step, wallS: last.wall_time_s, framesPerS: last.step / last.wall_time_s, loss: last.loss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const bench: Bench = {
  description: 'PPO train frames/s for envs 8-128 x vector env sync/workers on MinAtar Breakout and 84x84 Pong (one wasm thread)',
  async run(args: BenchArgs) {
    const envsList = listFlag(args, 'envs', ['8', '32', '64', '128']).map((x) => Number(x));
    if (envsList.some((e) => !Number.isInteger(e) || e < 1)) throw new InvalidConfigError(formatError('bench ppo-batch', '--envs a list of positive integers', describe(args.flags.envs), 'pass e.g. --envs 8,32,64,128'));
    const modes = listFlag(args, 'modes', ['sync', 'workers'], ['sync', 'workers']) as Array<'sync' | 'workers'>;
    const games = listFlag(args, 'games', Object.keys(PPO_BATCH_GAMES), Object.keys(PPO_BATCH_GAMES));
    const framesOf: Record<string, number> = { breakout: intFlag(args, 'frames-breakout', 65_536), pong84: intFlag(args, 'frames-pong', 16_384) };
    const seed = Number(args.flags.seed ?? 0);
    const load0 = loadavg();
    const cells: PpoBatchCell[] = [];
    for (const game of games) {
      for (const envs of envsList) {
        const rollout = envs * NUM_STEPS;
        const frames = Math.ceil(framesOf[game]! / rollout) * rollout;
        for (const mode of modes) {
          const cell = runCell(game, envs, mode, frames, seed);
          cells.push(cell);
          process.stderr.write(`ppo-batch: ${game} envs ${envs} ${mode}: ${cell.framesPerS.toFixed(0)} frames/s (${cell.frames} frames in ${cell.wallS.toFixed(1)} s, load ${loadavg()[0]!.toFixed(2)})\n`);
        }
      }
    }
    const load1 = loadavg();
    const rows = cells.map((c) => {
      const sync = cells.find((o) => o.game === c.game && o.envs === c.envs && o.mode === 'sync');
      return [c.game, String(c.envs), c.mode, String(c.frames), c.wallS.toFixed(1), c.framesPerS.toFixed(0), sync && c.mode !== 'sync' ? `${(c.framesPerS / sync.framesPerS).toFixed(2)}x` : '', c.loss === null ? '-' : c.loss.toPrecision(6)];
    });
    printTable(['game', 'envs', 'vector env', 'frames', 'wall s', 'frames/s', 'vs sync', 'final loss'], rows);
    process.stdout.write(`load average: ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end\n`);
    const result = { cells, loadAverage: { start: load0, end: load1 } };
    writeJson(args, 'ppo-batch', result);
    return result;
  },
};
