import type { Command } from 'commander';
import { InvalidConfigError, formatError, describe } from '../../errors.js';
import { existsSync } from 'node:fs';
import { PROJECT_FILE_NAME, RECURRENT_LSTM_UNITS, readConfigFile, readProjectFile, resolveRunConfig, type RunSettings } from '../../train/run-config.js';
import { train, type ExperienceSource } from '../../train/runner.js';
import { readRunFile } from '../../train/run-folder.js';
import { checkRedis, parseRedisUrl } from '../../distributed/redis-url.js';
import { DEFAULT_MAX_POLICY_LAG, RedisLearner, checkLearnerOptions } from '../../distributed/learner.js';
import { addSelfPlayOptions, resolveSelfPlayRunConfig, wantsSelfPlay, type SelfPlayFlags } from './selfplay-flags.js';
import { AUTO_WORKERS_MIN_ENVS, VECTOR_ENV_MODES, type VectorEnvMode } from '../../train/train-envs.js';

function vectorEnvFlag(v: string): VectorEnvMode {
  if ((VECTOR_ENV_MODES as readonly string[]).includes(v)) return v as VectorEnvMode;
  throw new InvalidConfigError(formatError('--vector-env', `one of ${VECTOR_ENV_MODES.join(', ')}`, describe(v), 'pass e.g. --vector-env workers'));
}
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules, importRunModules, requireGame } from '../imports.js';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

interface TrainFlags extends SelfPlayFlags {
  agent?: string;
  preset?: string;
  steps?: number;
  seed?: number;
  envs?: number;
  vectorEnv?: VectorEnvMode;
  config?: string;
  project?: string;
  out?: string;
  resume?: string;
  checkpoint?: number;
  saveReplay?: boolean;
  progress?: boolean;
  recurrent?: boolean;
  json?: boolean;
  distributed?: string;
  maxPolicyLag?: number;
  rhoBar?: number;
  cBar?: number;
  import: string[];
}

/** A positive number flag (V-trace's truncation levels). */
function positiveFlag(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidConfigError(formatError(`--${name}`, 'a number > 0', describe(v), `pass e.g. --${name} 1`));
    return n;
  };
}

/**
 * The learner's experience source of `--distributed <url>` (or of a resumed run that remembers
 * one): checks that Redis answers first, so an unreachable one is one line and nothing is written.
 */
async function distributedSource(url: string | undefined, f: Pick<TrainFlags, 'maxPolicyLag' | 'rhoBar' | 'cBar'>): Promise<{ source: ExperienceSource; display: string } | null> {
  const ppoFlags = { maxPolicyLag: f.maxPolicyLag, rhoBar: f.rhoBar, cBar: f.cBar };
  if (url === undefined) {
    const given = Object.entries({ 'max-policy-lag': f.maxPolicyLag, 'rho-bar': f.rhoBar, 'c-bar': f.cBar }).filter(([, v]) => v !== undefined).map(([k]) => `--${k}`);
    if (given.length) throw new InvalidConfigError(formatError('train', '--distributed next to ' + given.join(', '), 'no --distributed', 'add --distributed <url>, or drop them'));
    return null;
  }
  checkLearnerOptions(ppoFlags);
  const target = parseRedisUrl(url, { component: 'train --distributed' });
  await checkRedis(target, { component: 'train --distributed' });
  return { source: new RedisLearner({ target, ...ppoFlags }), display: target.display };
}

/** Signals that stop a training cleanly, and the exit code each gives (128 + signal number, as shells report). */
export const STOP_SIGNALS = { SIGINT: 130, SIGHUP: 129, SIGTERM: 143 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** `npcforge train <game>`: trains (or resumes) a run; Ctrl-C, SIGTERM and SIGHUP write a final checkpoint. */
export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train an agent on a game (runs/<game>__<agent>__s<seed>__<time>/)')
    .argument('[game]', 'registered game id (see `npcforge games`)')
    .option('--agent <name>', 'agent: dqn, ppo, a2c, reinforce, sac (default: the game\'s default, e.g. dqn; sac for pendulum)')
    .option('--recurrent', `an LSTM between encoder and heads (DRQN for dqn; default ${RECURRENT_LSTM_UNITS} units or the game's recurrent preset)`)
    .option('--preset <name>', 'hyperparameter preset (dqn: minatar, rainbow-lite, classic; sac: default, pendulum)')
    .option('--steps <n>', 'total env steps (with --resume: a new total, above the checkpoint\'s step)', intFlag('steps', 1))
    .option('--seed <n>', 'seed of envs, weights and exploration', intFlag('seed', 0))
    .option('--envs <k>', 'sub-envs stepped together (PPO acts on all of them in one forward pass per step)', intFlag('envs', 1))
    .option('--vector-env <mode>', `where the sub-envs step: sync (this process), workers (worker threads; PPO/A2C/REINFORCE step one half while acting on the other), auto (default: workers from ${AUTO_WORKERS_MIN_ENVS} envs when a game step costs more than acting per env); the same seed gives the same run with each; also with --resume`, vectorEnvFlag)
    .option('--config <file>', 'JSON file of settings over the preset')
    .option('--project <file>', `project file whose games.<id> entry overrides the game's training defaults (default: ./${PROJECT_FILE_NAME} when present)`)
    .option('--out <dir>', 'parent folder of the run folder (default runs)')
    .option('--resume <run>', 'continue a run folder from its newest intact checkpoint')
    .option('--checkpoint <step>', 'with --resume: continue from this checkpoint (later ones are removed)', intFlag('checkpoint', 0))
    .option('--save-replay', 'include the replay memory in checkpoints (exact resume)')
    .option('--no-progress', 'no progress bar or per-interval lines (warnings and the final line still go to stderr)')
    .option('--json', 'print the result as one JSON object on stdout (human lines stay on stderr)')
    .option('--distributed <url>', 'learn from `npcforge actor`s: redis://host:port/<name> (dqn: Ape-X; ppo: V-trace; the run remembers it for --resume, where the flag can give the address again, e.g. with a password)')
    .option('--max-policy-lag <n>', `with --distributed and ppo: drop segments acted with weights more than n versions behind the learner's (default ${DEFAULT_MAX_POLICY_LAG}; one version per update)`, intFlag('max-policy-lag', 0))
    .option('--rho-bar <x>', 'with --distributed and ppo: V-trace truncation of the importance weights rho (default 1)', positiveFlag('rho-bar'))
    .option('--c-bar <x>', 'with --distributed and ppo: V-trace truncation of the trace coefficients c, <= rho-bar (default 1)', positiveFlag('c-bar'))
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, []);
  addSelfPlayOptions(cmd)
    .addHelpText(
      'after',
      [
        '',
        'Stopping: Ctrl-C (SIGINT), SIGTERM or SIGHUP finish the current step, write a final checkpoint',
        'and exit with 130, 143 or 129; continue with `npcforge train --resume <run>`. Further signals',
        'while the checkpoint is written are ignored. A run folder is locked (<run>/.lock) while trained.',
      ].join('\n'),
    )
    .action(async (game: string | undefined, f: TrainFlags) => {
      let stopSignal: StopSignal | null = null;
      const onSignal = (signal: StopSignal): void => {
        // Later signals must not kill the process mid-checkpoint: the handler stays installed until train returns.
        if (stopSignal === null) stopSignal = signal;
        else process.stderr.write(`npcforge: ${signal} received; still finishing the step and writing the checkpoint\n`);
      };
      const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((sig) => [sig, () => onSignal(sig)] as const);
      for (const [sig, h] of handlers) process.on(sig, h);
      try {
        if (f.checkpoint !== undefined && !f.resume) throw new InvalidConfigError(formatError('train --checkpoint', '--resume <run> next to --checkpoint', 'no --resume', 'add --resume <run>, or drop --checkpoint'));
        const common = { shouldStop: () => stopSignal !== null, showProgress: f.progress !== false };
        let result;
        const imports = await importModules(f.import);
        if (f.resume) {
          // Flags first: a wrong flag is reported before the run folder is read or Redis is reached.
          const extra = (['agent', 'preset', 'seed', 'envs', 'config', 'project', 'out', 'saveReplay', 'recurrent', 'selfplay', 'selfplayAgent'] as const).filter((k) => f[k] !== undefined);
          if (game !== undefined || extra.length) throw new InvalidConfigError(formatError('train --resume', 'only --steps, --checkpoint, --vector-env and --distributed next to --resume', [game && `game ${game}`, ...extra.map((k) => `--${k}`)].filter(Boolean).join(', '), 'drop them: a resumed run keeps its config'));
          const savedDist = readRunFile(f.resume).distributed;
          const saved = savedDist?.url;
          if (f.distributed !== undefined && saved === undefined) throw new InvalidConfigError(formatError('train --resume --distributed', 'a run started with --distributed', `run ${f.resume} trained in one process`, 'drop --distributed'));
          // The V-trace settings the run started with, unless given again (checked like the flags: config.json is untrusted).
          const dist = await distributedSource(f.distributed ?? saved, { maxPolicyLag: f.maxPolicyLag ?? savedDist?.maxPolicyLag, rhoBar: f.rhoBar ?? savedDist?.rhoBar, cBar: f.cBar ?? savedDist?.cBar });
          const runImports = await importRunModules(f.resume);
          // Worker envs import what this process imported for the run.
          const modules = [...imports, ...runImports].map((m) => m.url);
          result = await train({ ...common, resume: f.resume, steps: f.steps, checkpoint: f.checkpoint, vectorEnv: f.vectorEnv, modules, ...(dist ? { experience: dist.source } : {}) });
        } else {
          if (!game) throw new InvalidConfigError(formatError('train', 'a game id', 'none', 'run e.g. `npcforge train catch`'));
          if (!wantsSelfPlay(f)) requireGame(game, imports);
          const flags: Partial<RunSettings> = { steps: f.steps, seed: f.seed, envs: f.envs, saveReplay: f.saveReplay, vectorEnv: f.vectorEnv };
          const file = f.config ? readConfigFile(f.config) : undefined;
          // The project file of the working folder applies without a flag, as package.json does for npm.
          const projectPath = f.project ?? (existsSync(PROJECT_FILE_NAME) ? PROJECT_FILE_NAME : undefined);
          const project = projectPath !== undefined ? readProjectFile(projectPath) : undefined;
          const note = (line: string): void => void process.stderr.write(line + '\n');
          const request = { game, agent: f.agent, preset: f.preset, file, flags, recurrent: f.recurrent === true, project, note };
          const config = wantsSelfPlay(f) ? resolveSelfPlayRunConfig(request, f) : resolveRunConfig(request);
          if (imports.length) config.imports = imports.map(({ spec, url }) => ({ spec, url }));
          const dist = await distributedSource(f.distributed, f);
          if (dist) config.distributed = { url: dist.display, ...Object.fromEntries(Object.entries({ maxPolicyLag: f.maxPolicyLag, rhoBar: f.rhoBar, cBar: f.cBar }).filter(([, v]) => v !== undefined)) };
          result = await train({ ...common, config, outDir: f.out, ...(dist ? { experience: dist.source } : {}) });
        }
        if (f.json) {
          const { runDir, step, interrupted, stoppedEarly, lastEval, bestEval, checkpoint, experience } = result;
          process.stdout.write(JSON.stringify({ runDir, step, interrupted, signal: interrupted ? stopSignal : null, stoppedEarly, checkpoint, lastEval, bestEval, ...(experience ? { distributed: experience } : {}) }) + '\n');
        }
        if (result.interrupted && stopSignal !== null) process.exitCode = STOP_SIGNALS[stopSignal];
      } finally {
        // After a stop signal the process is about to exit: keep ignoring further signals until it
        // has, so its exit code stays 128 + the first signal instead of a kill by the second one.
        if (stopSignal === null) for (const [sig, h] of handlers) process.off(sig, h);
      }
    });
}
