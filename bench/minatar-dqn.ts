/**
 * Long benchmark (not in CI): the `minatar` DQN preset on a MinAtar game, writing its learning
 * curve (the run folder's metrics.jsonl, plus a summary JSON with --json).
 * Usage: node dist/bench/minatar-dqn.js --game breakout --frames 1000000 [--seed S] [--out runs] [--json f]
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InvalidConfigError, UnknownEnvError, formatError, describe } from '../src/errors.js';
import '../games/index.js';
import { isRegistered, listEnvs } from '../src/envs/registry.js';
import { resolveRunConfig } from '../src/train/run-config.js';
import { train } from '../src/train/runner.js';

export interface MinatarDqnResult {
  game: string;
  frames: number;
  runDir: string;
  finalEval: number | null;
  wallTimeS: number;
}

/** Trains the minatar preset for `--frames` env steps; fails clearly if the game is not registered. */
export async function run(args: string[] = []): Promise<MinatarDqnResult> {
  let game = 'breakout';
  let frames = 1_000_000;
  let seed = 0;
  let out = 'runs';
  let json: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--game') game = args[++i]!;
    else if (a === '--frames') frames = Number(args[++i]);
    else if (a === '--seed') seed = Number(args[++i]);
    else if (a === '--out') out = args[++i]!;
    else if (a === '--json') json = args[++i];
  }
  if (!Number.isInteger(frames) || frames < 1) throw new InvalidConfigError(formatError('minatar-dqn', '--frames as a positive integer', describe(frames), 'pass e.g. --frames 1000000'));
  const id = game.startsWith('minatar/') ? game : `minatar/${game}`;
  if (!isRegistered(id)) {
    throw new UnknownEnvError(formatError('minatar-dqn', `a registered MinAtar game (${id})`, `registered: ${listEnvs().map((e) => e.id).join(', ')}`, 'merge the MinAtar games first'));
  }
  const t0 = Date.now();
  const config = resolveRunConfig({ game: id, preset: 'minatar', flags: { steps: frames, seed, evalEvery: Math.max(10_000, Math.floor(frames / 20)), evalEpisodes: 30, logEvery: 10_000 } });
  const res = await train({ config, outDir: out });
  const result: MinatarDqnResult = { game: id, frames: res.step, runDir: res.runDir, finalEval: res.lastEval?.mean_return ?? null, wallTimeS: (Date.now() - t0) / 1000 };
  process.stdout.write(`minatar-dqn ${id}: ${res.step} frames, final eval ${result.finalEval}, ${result.wallTimeS.toFixed(0)} s, curve in ${res.runDir}/metrics.jsonl\n`);
  if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await run(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
