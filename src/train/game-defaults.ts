/**
 * The fallback of a game that declares no training defaults (no `train` in its `register()` call
 * and no entry in the project file): an agent that fits its spaces and a budget of minutes. Games
 * that declare theirs keep them next to their rules (games/<g>/index.ts).
 */
import type { Space } from '../envs/spaces.js';
import type { TrainVariant } from '../envs/train-defaults.js';

/**
 * Env steps of an undeclared game's run: enough for PPO to learn a small game, and on 2 cores a few
 * minutes (docs/training.md has the measured wall time).
 */
export const UNDECLARED_STEPS = 50_000;

/** Runner settings of an undeclared game's run: five evaluations of 20 episodes, a metrics line every 1000 steps. */
const UNDECLARED_RUN = { evalEvery: 10_000, evalEpisodes: 20, logEvery: 1000, checkpointEvery: 10_000 };

/**
 * The agent an undeclared game trains with, and why. PPO for every action space: it is the one
 * agent here that handles Discrete, MultiDiscrete and Box actions and vector, Dict and pixel
 * observations (the one encoder rule), so a game keeps its agent when its spaces change; it needs
 * no replay memory sized to the observation; and its batched updates over 8 envs cost less wall
 * time per env step than DQN's frequent small updates, which is what a budget of minutes is spent on.
 */
export function undeclaredAgent(actionSpace: Space): { agent: string; why: string } {
  return { agent: 'ppo', why: `ppo handles its ${actionSpace.type} actions and any observation` };
}

/** Any agent on an undeclared game: its generic preset and config with the budget of minutes. */
export function undeclaredVariant(generic: TrainVariant | undefined): TrainVariant {
  return { ...generic, steps: UNDECLARED_STEPS, envs: generic?.envs ?? 8, run: { ...UNDECLARED_RUN } };
}
