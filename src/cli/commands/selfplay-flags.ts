/** The `--selfplay` flags of `npcforge train` (kept out of train.ts: the command only hooks them in). */
import type { Command } from 'commander';
import { InvalidConfigError, formatError } from '../../errors.js';
import { resolveRunConfig, type RunRequest, type ResolvedRunConfig } from '../../train/run-config.js';
import { resolveSelfPlayConfig } from '../../train/selfplay/config.js';
import { makeRunEnv, requireMultiAgentGame } from '../../train/selfplay/selfplay.js';
import { multiAgentTrainDefaultsOf } from '../../envs/multi/registry.js';

export interface SelfPlayFlags {
  selfplay?: boolean;
  selfplayAgent?: string;
}

/** Adds `--selfplay` and `--selfplay-agent` to the train command. */
export function addSelfPlayOptions(cmd: Command): Command {
  return cmd
    .option('--selfplay', 'multi-agent games: train against a pool of past snapshots of the learner (PPO by default; settings: "selfplay" in --config)')
    .option('--selfplay-agent <seat>', 'with --selfplay: the seat the learner plays in every sub-env (default: sub-env i plays seat i mod the number of seats, one shared policy)');
}

/** True when the flags ask for self-play (`--selfplay-agent` implies it). */
export function wantsSelfPlay(f: SelfPlayFlags): boolean {
  return f.selfplay === true || f.selfplayAgent !== undefined;
}

/**
 * A self-play run's config: the game must be a multi-agent game; the config file's `selfplay`
 * object and `--selfplay-agent` give the self-play settings; the agent defaults to PPO and is
 * checked against the learner's seat.
 */
export function resolveSelfPlayRunConfig(req: RunRequest, f: SelfPlayFlags): ResolvedRunConfig {
  const multi = requireMultiAgentGame(req.game);
  const possible = [...multi.possibleAgents];
  multi.close();
  const { selfplay: fromFile, ...file } = req.file ?? {};
  const base = fromFile ?? {};
  // A non-object "selfplay" goes to the resolver as it is, which names it.
  const given = typeof base === 'object' && !Array.isArray(base) && f.selfplayAgent !== undefined ? { ...base, agent: f.selfplayAgent } : base;
  const selfplay = resolveSelfPlayConfig(given, possible, 'selfplay');
  // The game's self-play train block (its env options too, e.g. pong's state observations) applies to its own agent.
  const declared = multiAgentTrainDefaultsOf(req.game);
  const agent = req.agent ?? (file.agent as string | undefined) ?? declared?.agent ?? 'ppo';
  const blockOptions = declared?.agent === agent ? declared.run?.envOptions : undefined;
  const envOptions = ((file.envOptions ?? req.flags?.envOptions ?? blockOptions ?? {}) as Record<string, unknown>);
  const probe = () => makeRunEnv({ game: req.game, run: { envOptions } as ResolvedRunConfig['run'], selfplay });
  const config = resolveRunConfig({ ...req, agent, file, probe, selfplay: true });
  // Opponents act in batches without a recurrent state per seat: a recurrent policy would forget at every step.
  const lstm = config.agentConfig.lstmUnits;
  if (typeof lstm === 'number' && lstm > 0) {
    throw new InvalidConfigError(formatError('train --selfplay', 'a feed-forward agent (self-play opponents keep no recurrent state)', `lstmUnits ${lstm}${req.recurrent ? ' (--recurrent)' : ''}`, 'drop --recurrent (or set lstmUnits to 0)'));
  }
  return { ...config, selfplay };
}
