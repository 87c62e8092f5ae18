/** Registers the five MinAtar games (`minatar/<game>`) and exports their building blocks. */
import { register } from '../../src/envs/registry.js';
import type { MinAtarGameName } from './game.js';
import { MINATAR_DEFAULTS, MinAtarEnv, type MinAtarOptions } from './minatar-env.js';

export { MinAtarEnv, MINATAR_DEFAULTS, MINATAR_GAMES, createMinAtarGame, resolveMinAtarConfig, type MinAtarOptions, type ResolvedMinAtarConfig } from './minatar-env.js';
export { FULL_ACTION_NAMES, type MinAtarGame, type MinAtarGameName } from './game.js';
export { MINATAR_PALETTES, drawGrid, paletteBytes } from './palette.js';
export { AsterixGame } from './asterix.js';
export { BreakoutGame } from './breakout.js';
export { FreewayGame } from './freeway.js';
export { SeaquestGame } from './seaquest.js';
export { SpaceInvadersGame } from './space-invaders.js';


const DESCRIPTIONS: Record<MinAtarGameName, string> = {
  asterix: 'MinAtar Asterix: dodge enemies, collect gold; 10x10x4 grid, sticky actions 0.1.',
  breakout: 'MinAtar Breakout: bounce the ball into three rows of bricks; 10x10x4 grid, sticky actions 0.1.',
  freeway: 'MinAtar Freeway: cross eight lanes of traffic; 2501-step episodes; 10x10x7 grid, sticky actions 0.1.',
  seaquest: 'MinAtar Seaquest: shoot enemies, rescue divers, surface for oxygen; 10x10x10 grid, sticky actions 0.1.',
  space_invaders: 'MinAtar Space Invaders: shoot the alien waves; 10x10x6 grid, sticky actions 0.1.',
};

// No episode cap: MinAtar episodes end by themselves (Freeway after 2501 steps).
for (const game of Object.keys(DESCRIPTIONS) as MinAtarGameName[]) {
  register(`minatar/${game}`, (o) => new MinAtarEnv({ ...(o as Partial<MinAtarOptions>), game }), {
    description: DESCRIPTIONS[game],
    options: { ...MINATAR_DEFAULTS },
    // DQN: the MinAtar paper's settings on a budget of about half an hour (1M frames at ~540 frames/s
    // on one core here); the paper's full run is `--steps 5000000`. PPO (`--agent ppo`): the tuned
    // `minatar` preset over 64 envs, 10M frames (gymnax's budget; 20 minutes on this machine; figures
    // in docs/results.md).
    train: {
      agent: 'dqn',
      preset: 'minatar',
      steps: 1_000_000,
      run: { evalEvery: 100_000, evalEpisodes: 30, logEvery: 10_000, checkpointEvery: 100_000 },
      agents: { ppo: { preset: 'minatar', steps: 10_000_000, envs: 64, run: { evalEvery: 500_000, evalEpisodes: 30, logEvery: 25_000, checkpointEvery: 500_000 } } },
    },
  });
}
