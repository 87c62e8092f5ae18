// `node scripts/run-summary.mjs [--at N]... <run folder>...`
// One markdown table row per run, read from its config.json and metrics.jsonl: game, agent, seed,
// envs, frames, the last-100-episode training return at each `--at` frame count (the first metrics
// row at or after it), the last evaluation's mean return, the median train frames/s over the
// metrics intervals and the wall time. Used for the tables of docs/results.md.
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readCurve } from './plot-curves.mjs';

const MAX_CONFIG_BYTES = 1024 * 1024;

/** The run's config.json (a regular file of at most 1 MiB), or an empty object when absent. */
function readConfig(dir) {
  const file = join(dir, 'config.json');
  let st;
  try {
    st = statSync(file);
  } catch {
    return {};
  }
  if (!st.isFile() || st.size > MAX_CONFIG_BYTES) throw new Error(`run-summary: expected a regular config.json of at most 1 MiB, received ${JSON.stringify(file)}`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

/** The first y at or after x = `at` of a curve, or null. */
export function valueAt(points, at) {
  const p = points.find((q) => q[0] >= at);
  return p ? p[1] : null;
}

/** The summary of one run folder. */
export function summarise(dir, ats = []) {
  if (!statSync(dir).isDirectory()) throw new Error(`run-summary: expected a run folder, received ${JSON.stringify(dir)} (not a folder)`);
  const cfg = readConfig(dir);
  const ret = readCurve(dir, 'mean_return_100');
  const evals = readCurve(dir, 'eval_return');
  const fps = readCurve(dir, 'env_steps_per_s').map((p) => p[1]);
  const wall = readCurve(dir, 'wall_time_s');
  const last = ret.at(-1);
  return {
    run: basename(dir),
    game: cfg.game ?? null,
    agent: cfg.agent ?? null,
    seed: cfg.run?.seed ?? null,
    envs: cfg.run?.envs ?? null,
    frames: last ? last[0] : 0,
    returnsAt: ats.map((a) => valueAt(ret, a)),
    lastReturn: last ? last[1] : null,
    lastEval: evals.length ? evals.at(-1)[1] : null,
    framesPerS: median(fps),
    wallS: wall.length ? wall.at(-1)[1] : null,
  };
}

const f = (v, d = 2) => (v === null || v === undefined ? '-' : typeof v === 'number' ? v.toFixed(d) : String(v));

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    const argv = process.argv.slice(2);
    const ats = [];
    const dirs = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--help') {
        process.stdout.write('usage: node scripts/run-summary.mjs [--at N]... <run folder>...\n');
        process.exit(0);
      } else if (argv[i] === '--at') {
        const n = Number(argv[++i]);
        if (!Number.isFinite(n) || n < 0) throw new Error(`run-summary: --at wants a frame count, received ${JSON.stringify(argv[i])}`);
        ats.push(n);
      } else dirs.push(argv[i]);
    }
    if (dirs.length === 0) throw new Error('run-summary: expected run folders, received none (usage: node scripts/run-summary.mjs [--at N]... <run folder>...)');
    const head = ['game', 'agent', 'seed', 'envs', 'frames', ...ats.map((a) => `return at ${a / 1e6}M`), 'last-100 return', 'last eval', 'frames/s (median)', 'wall s'];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
    for (const d of dirs) {
      const s = summarise(d, ats);
      lines.push(`| ${[s.game, s.agent, s.seed, s.envs, s.frames, ...s.returnsAt.map((v) => f(v)), f(s.lastReturn), f(s.lastEval), f(s.framesPerS, 0), f(s.wallS, 0)].join(' | ')} |`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
