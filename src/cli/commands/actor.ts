import type { Command } from 'commander';
import { InvalidConfigError, describe, formatError } from '../../errors.js';
import { checkRedis, parseRedisUrl } from '../../distributed/redis-url.js';
import { DEFAULT_ACTOR_OPTIONS, runActor } from '../../distributed/actor.js';
import { IMPORT_FLAG, IMPORT_HELP, collectImport, importModules } from '../imports.js';
import { STOP_SIGNALS } from './train.js';

function intFlag(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidConfigError(formatError(`--${name}`, `an integer >= ${min}`, describe(v), `pass e.g. --${name} ${Math.max(min, 1)}`));
    return n;
  };
}

type StopSignal = keyof typeof STOP_SIGNALS;

interface ActorFlags {
  envs: number;
  batchSteps?: number;
  maxBacklog: number;
  seed?: number;
  game?: string;
  transitions?: number;
  json?: boolean;
  import: string[];
}

/** `npcforge actor redis://host:port/<name>`: feeds a distributed learner (`train --distributed`). */
export function registerActor(program: Command): void {
  program
    .command('actor')
    .description('step envs with the latest weights of a distributed dqn or ppo learner and push their transitions to it over Redis (`train <game> --distributed <url>`)')
    .argument('<url>', 'the learner\'s Redis address redis://host:port/<name>')
    .option('--envs <k>', 'sub-envs stepped in this process', intFlag('envs', 1), DEFAULT_ACTOR_OPTIONS.envs)
    .option('--batch-steps <n>', `steps per sub-env in one pushed batch (default ${DEFAULT_ACTOR_OPTIONS.batchSteps} for dqn; a ppo run's numSteps, the only length its learner takes)`, intFlag('batch-steps', 1))
    .option('--max-backlog <n>', 'wait while the stream holds more than this many batches the learner has not taken', intFlag('max-backlog', 1), DEFAULT_ACTOR_OPTIONS.maxBacklog)
    .option('--seed <n>', 'seed of this actor\'s envs and exploration (default: the run\'s seed + 7919 x the actor\'s number)', intFlag('seed', 0))
    .option('--game <id>', 'refuse to join unless the learner trains this game')
    .option('--transitions <n>', 'stop after pushing this many transitions (default: until the learner is done)', intFlag('transitions', 1))
    .option('--json', 'print the result as one JSON object on stdout: {actorId, pushed, acked, batches, reason}')
    .option(IMPORT_FLAG, IMPORT_HELP, collectImport, [])
    .addHelpText(
      'after',
      [
        '',
        'DQN runs: actors act with the run\'s epsilon schedule at the learner\'s step count. PPO runs: actors',
        'sample from the run\'s policy and send the log-probabilities of their actions (the learner\'s V-trace',
        'corrects for their lag); recurrent or normObs/normReward ppo runs are refused. Actors refuse a run of another',
        'game or network shape. They wait while the learner is away (killed, resuming) or Redis is down,',
        'and exit 0 when the learner finishes. Ctrl-C (or SIGTERM) stops after the batch in hand; a killed',
        'actor loses only the batch it was stepping. "acked" = transitions the learner put in its replay',
        'memory (ppo: rollout storage) and acknowledged (redis: HGET npcforge:dist:<name>:acked <actorId>).',
      ].join('\n'),
    )
    .action(async (url: string, f: ActorFlags) => {
      await importModules(f.import);
      const target = parseRedisUrl(url, { component: 'npcforge actor' });
      await checkRedis(target, { component: 'npcforge actor' });
      let signal: StopSignal | null = null;
      const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((sig) => [sig, () => void (signal ??= sig)] as const);
      for (const [sig, h] of handlers) process.on(sig, h);
      try {
        const say = (line: string): void => void process.stderr.write(line + '\n');
        const r = await runActor({ target, envs: f.envs, batchSteps: f.batchSteps, maxBacklog: f.maxBacklog, seed: f.seed, game: f.game, maxTransitions: f.transitions, shouldStop: () => signal !== null, say });
        if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
        say(`npcforge actor: ${r.actorId || '(not joined)'} stopped (${r.reason}); pushed ${r.pushed} transitions in ${r.batches} batches, ${r.acked} acknowledged by the learner so far`);
        if (signal) process.exitCode = STOP_SIGNALS[signal];
      } finally {
        if (signal === null) for (const [sig, h] of handlers) process.off(sig, h);
      }
    });
}
