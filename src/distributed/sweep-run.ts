/**
 * Runs one sweep job in this process: resolves its config as `train` does, trains it in its fixed
 * run folder `<out>/<sweep>/g<point>-s<seed>`, and resumes that folder from its newest checkpoint
 * when the job runs again (a worker stopped or killed mid-run).
 */
import { existsSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigError, formatError } from '../errors.js';
import { resolveRunConfig } from '../train/run-config.js';
import { listCheckpoints, readRunFile } from '../train/run-folder.js';
import { train } from '../train/runner.js';
import { readCheckpoint } from '../train/checkpoint.js';
import type { SweepJob } from './sweep-spec.js';

/** What a finished (or stopped) job reports; also the BullMQ job's return value. */
export interface SweepResult {
  id: string;
  sweep: string;
  index: number;
  point: number;
  seed: number;
  settings: Record<string, number | string | boolean>;
  runDir: string;
  step: number;
  /** Mean return of the last evaluation (null without one). */
  lastEval: number | null;
  /** Best periodic evaluation mean (null without evaluations). */
  bestEval: number | null;
  /** True when the run stopped before its budget (worker stopped); it resumes when the job runs again. */
  interrupted: boolean;
  /** Wall time of this attempt, seconds. */
  seconds: number;
  /** `<host>:<pid>` of the process that ran it. */
  worker: string;
}

export interface RunJobOptions {
  /** Parent of the sweep folders (default `runs`). */
  outDir?: string;
  shouldStop?: () => boolean;
  showProgress?: boolean;
  /** Module URLs imported for the game (worker envs import them too). */
  modules?: string[];
  /** One line of news (resumed, set aside): default stderr. */
  note?: (line: string) => void;
}

/** The resolved config of a job: checked before anything is queued or trained. */
export function jobRunConfig(job: SweepJob, note?: (line: string) => void): ReturnType<typeof resolveRunConfig> {
  return resolveRunConfig({ game: job.game, agent: job.agent, preset: job.preset, file: job.config, flags: { steps: job.steps, seed: job.seed }, recurrent: job.recurrent === true, note });
}

export async function runSweepJob(job: SweepJob, options: RunJobOptions = {}): Promise<SweepResult> {
  const note = options.note ?? ((line: string) => void process.stderr.write(line + '\n'));
  const config = jobRunConfig(job, note);
  const runDir = join(options.outDir ?? 'runs', job.runPath);
  const started = Date.now();
  const common = { shouldStop: options.shouldStop, showProgress: options.showProgress ?? false, modules: options.modules };
  let resume = false;
  if (existsSync(join(runDir, 'config.json'))) {
    const file = readRunFile(runDir);
    if (file.game !== config.game || file.agent !== config.agent || file.run.seed !== config.run.seed) {
      throw new InvalidConfigError(
        formatError('npcforge sweep', `${runDir} to hold ${config.game} / ${config.agent} / seed ${config.run.seed} (job ${job.id})`, `${file.game} / ${file.agent} / seed ${file.run.seed}`, 'give the sweep another name, or move that folder away'),
      );
    }
    if (listCheckpoints(runDir).length) resume = true;
    else {
      // Killed before its first checkpoint: nothing to resume. Keep the folder for inspection.
      const aside = `${runDir}.abandoned-${started}`;
      renameSync(runDir, aside);
      note(`npcforge sweep: ${job.id}: ${runDir} had no checkpoint; moved it to ${aside} and started again`);
    }
  }
  if (resume) {
    const steps = listCheckpoints(runDir);
    const newest = steps[steps.length - 1]!;
    if (newest >= config.run.steps) {
      // Finished before (the job ran again after its result was lost, or the sweep was run again): report it.
      const { runner } = readCheckpoint(join(runDir, 'checkpoints', String(newest)));
      return { ...ids(job), runDir, step: runner.step, lastEval: runner.lastEval, bestEval: runner.bestEval ?? null, interrupted: false, seconds: 0, worker: workerName() };
    }
    note(`npcforge sweep: ${job.id}: resuming ${runDir} from its checkpoint at step ${newest}`);
  }
  const r = resume ? await train({ ...common, resume: runDir, steps: config.run.steps }) : await train({ ...common, config, runDir });
  return {
    ...ids(job),
    runDir: r.runDir,
    step: r.step,
    lastEval: r.lastEval ? r.lastEval.mean_return : null,
    bestEval: r.bestEval,
    interrupted: r.interrupted,
    seconds: (Date.now() - started) / 1000,
    worker: workerName(),
  };
}

const ids = (job: SweepJob): Pick<SweepResult, 'id' | 'sweep' | 'index' | 'point' | 'seed' | 'settings'> => ({ id: job.id, sweep: job.sweep, index: job.index, point: job.point, seed: job.seed, settings: job.settings });
const workerName = (): string => `${hostname()}:${process.pid}`;
