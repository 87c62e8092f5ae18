import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { checkRedis, parseRedisUrl } from '../../distributed/redis-url.js';
import { jobRunConfig, runSweepJob } from '../../distributed/sweep-run.js';
import { enqueueSweep, runSweepWorker, sweepStatus, type SweepRow } from '../../distributed/sweep-queue.js';
import { expandSweep, readSweepSpec, SWEEP_NAME, type SweepSpec } from '../../distributed/sweep-spec.js';
import { formatSweepSummary, summarisePoints } from '../../distributed/sweep-summary.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, requireGame } from '../imports.js';
import { STOP_SIGNALS } from './train.js';

/** Default queue name when a --queue / worker address has no path. */
export const DEFAULT_SWEEP_QUEUE = 'npcforge-sweeps';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

type StopSignal = keyof typeof STOP_SIGNALS;

/** Installs the stop signals for the duration of `f`: the first one asks `f` to stop at a checkpoint. */
async function withStopSignals<T>(f: (stopped: () => StopSignal | null) => Promise<T>): Promise<T> {
  let signal: StopSignal | null = null;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((sig) => [sig, () => void (signal ??= sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    const out = await f(() => signal);
    if (signal) process.exitCode = STOP_SIGNALS[signal];
    return out;
  } finally {
    if (signal === null) for (const [sig, h] of handlers) process.off(sig, h);
  }
}

function printSummary(spec: SweepSpec, rows: SweepRow[], json: boolean | undefined): void {
  if (json) process.stdout.write(JSON.stringify({ sweep: spec.name, game: spec.game, rows: rows.map((r) => ({ id: r.job.id, settings: r.job.settings, seed: r.job.seed, state: r.state, attempts: r.attempts, error: r.error, result: r.result })), points: summarisePoints(spec, rows) }) + '\n');
  else process.stdout.write(formatSweepSummary(spec, rows) + '\n');
}

/** Checks every job's settings here, before anything is queued or trained. */
function checkJobs(spec: SweepSpec): void {
  for (const job of expandSweep(spec)) jobRunConfig(job, () => {});
}

/** `npcforge sweep <spec.json> [--queue redis://...]`, `npcforge sweep status <name> --queue ...` and `npcforge worker redis://...`. */
export function registerSweep(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('train one run per seed and setting of a sweep spec: here, one after the other, or as jobs on a Redis queue (BullMQ) for `npcforge worker`s')
    .usage('[options] <spec.json> | status <name> --queue <url>')
    .argument('[spec]', 'sweep spec JSON: {"name", "game", "agent"?, "preset"?, "steps"?, "seeds": [...], "config"?: {settings}, "grid"?: {"optimizer.learningRate": [...]}} (docs/distributed.md); or `status`')
    .argument('[name]', 'with `status`: the sweep\'s name (its spec\'s "name", else the spec file\'s name)')
    .option('--queue <url>', `Redis address redis://host:port[/queue] (queue default ${DEFAULT_SWEEP_QUEUE}): enqueue the jobs instead of training here`)
    .option('--out <dir>', 'without --queue: parent of the sweep folder <out>/<name>/g<point>-s<seed> (default runs)')
    .option('--json', 'print the summary (or what was queued) as one JSON object on stdout')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .addHelpText(
      'after',
      [
        '',
        'Runs are named <name>/g<point>-s<seed> (grid point, seed). Run again, a sweep resumes each',
        'unfinished run from its newest checkpoint and reports finished ones without training them.',
        'Ctrl-C stops the current run at a checkpoint. With --queue, enqueueing the same spec again adds',
        'only the jobs that are missing.',
        '',
        '`npcforge sweep status <name> --queue <url> [--json]` prints a queued sweep\'s state and results:',
        'one line per run, then the mean and spread of each setting over its seeds.',
      ].join('\n'),
    )
    .action(async (specPath: string | undefined, name: string | undefined, f: { queue?: string; out?: string; json?: boolean; import: string[] }) => {
      if (specPath === 'status') return sweepStatusCommand(name, f);
      if (name !== undefined) throw new InvalidConfigError(formatError('npcforge sweep', 'one spec file', `${describe(specPath)} and ${describe(name)}`, 'run one sweep at a time, or `npcforge sweep status <name> --queue <url>`'));
      if (!specPath) throw new InvalidConfigError(formatError('npcforge sweep', 'a sweep spec file (or `sweep status <name>`)', 'none', 'run e.g. `npcforge sweep sweep.json`'));
      const imports = await importModules(f.import);
      const spec = readSweepSpec(specPath);
      requireGame(spec.game, imports);
      checkJobs(spec);
      if (f.queue) {
        if (f.out) throw new InvalidConfigError(formatError('npcforge sweep', '--out without --queue (workers choose their own folder)', '--out with --queue', 'pass --out to `npcforge worker`'));
        const target = parseRedisUrl(f.queue, { component: 'npcforge sweep --queue', defaultName: DEFAULT_SWEEP_QUEUE });
        await checkRedis(target, { component: 'npcforge sweep' });
        const { jobs, added } = await enqueueSweep(target, spec);
        if (f.json) process.stdout.write(JSON.stringify({ sweep: spec.name, queue: target.display, jobs: jobs.length, added }) + '\n');
        else process.stdout.write(`npcforge sweep: queued ${added} new job${added === 1 ? '' : 's'} of sweep ${spec.name} on ${target.display} (${jobs.length - added} already there)\nstart workers with: npcforge worker ${target.display}\nfollow with: npcforge sweep status ${spec.name} --queue ${target.display}\n`);
        return;
      }
      const jobs = expandSweep(spec);
      const rows: SweepRow[] = jobs.map((job) => ({ job, state: 'waiting', result: null, error: null, attempts: 0 }));
      await withStopSignals(async (stopped) => {
        for (const row of rows) {
          if (stopped()) break;
          process.stderr.write(`npcforge sweep: ${row.job.id} (${row.job.index + 1}/${jobs.length})\n`);
          row.state = 'active';
          row.attempts = 1;
          const r = await runSweepJob(row.job, { outDir: f.out, shouldStop: () => stopped() !== null, showProgress: !f.json, modules: imports.map((m) => m.url) });
          row.result = r.interrupted ? null : r;
          row.state = r.interrupted ? 'waiting' : 'completed';
          if (r.interrupted) row.error = `stopped at step ${r.step}; run the sweep again to resume`;
        }
      });
      printSummary(spec, rows, f.json);
    });

  program
    .command('worker')
    .description('take sweep jobs from a Redis queue (BullMQ) and train them, on this or any machine')
    .argument('<url>', `Redis address redis://host:port[/queue] (queue default ${DEFAULT_SWEEP_QUEUE})`)
    .option('--out <dir>', 'parent of the sweep folders <out>/<sweep>/g<point>-s<seed> (default runs)')
    .option('--concurrency <n>', 'jobs trained at once (each run uses the cores it is given)', intFlag('concurrency', 1), 1)
    .option('--until-empty', 'exit once the queue has no job left to take (default: wait for more)')
    .option('--progress', 'show each run\'s progress lines')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .addHelpText('after', '\nCtrl-C (or SIGTERM) stops the current run at a checkpoint and puts its job back in the queue; the\nnext worker resumes it. A worker that dies loses its claim after 60 s, and another worker resumes the run\nfrom its newest checkpoint when both share the output folder. Lost connections to Redis are retried.')
    .action(async (url: string, f: { out?: string; concurrency: number; untilEmpty?: boolean; progress?: boolean; import: string[] }) => {
      const imports = await importModules(f.import);
      const target = parseRedisUrl(url, { component: 'npcforge worker', defaultName: DEFAULT_SWEEP_QUEUE });
      await checkRedis(target, { component: 'npcforge worker' });
      process.stderr.write(`npcforge worker: taking jobs from ${target.display}${f.untilEmpty ? ' until it is empty' : ''} (Ctrl-C to stop)\n`);
      await withStopSignals(async (stopped) => {
        const r = await runSweepWorker(target, { outDir: f.out, concurrency: f.concurrency, untilEmpty: f.untilEmpty, showProgress: f.progress === true, modules: imports.map((m) => m.url), shouldStop: () => stopped() !== null });
        process.stderr.write(`npcforge worker: stopped; ${r.completed} job${r.completed === 1 ? '' : 's'} done, ${r.failed} failed\n`);
      });
    });
}

/** `npcforge sweep status <name> --queue <url>`. */
async function sweepStatusCommand(name: string | undefined, f: { queue?: string; out?: string; json?: boolean; import: string[] }): Promise<void> {
  if (name === undefined || !SWEEP_NAME.test(name)) throw new InvalidConfigError(formatError('npcforge sweep status', 'a sweep name (letters, digits, ., _, -)', describe(name ?? 'none'), 'run `npcforge sweep status <name> --queue <url>`'));
  if (!f.queue) throw new InvalidConfigError(formatError('npcforge sweep status', '--queue <url>', 'none', 'pass the queue the sweep was enqueued on, e.g. --queue redis://127.0.0.1:6379'));
  if (f.out || f.import.length) throw new InvalidConfigError(formatError('npcforge sweep status', 'only --queue and --json', f.out ? '--out' : '--import', 'drop it'));
  const target = parseRedisUrl(f.queue, { component: 'npcforge sweep status --queue', defaultName: DEFAULT_SWEEP_QUEUE });
  await checkRedis(target, { component: 'npcforge sweep status' });
  const { spec, rows } = await sweepStatus(target, name);
  printSummary(spec, rows, f.json);
}
