import { register } from '../../src/envs/registry.js';
import { registerMultiAgent } from '../../src/envs/multi/registry.js';
import { PongEnv, type PongOptions } from './pong.js';
import { PongMultiAgentEnv, type PongMultiAgentOptions } from './pong-multi-agent.js';

export { PongEnv, PONG_ACTIONS, PONG_DEFAULTS, PONG_INTENSITY, mirrorPongObs, pongStateObs, resolvePongConfig, PONG_STATE_SIZE, type PongObsType, type PongAction, type PongConfig, type PongMode, type PongOptions } from './pong.js';
export { PongMultiAgentEnv, PONG_AGENTS, PONG_MULTI_AGENT_MAX_STEPS, type PongAgent, type PongMultiAgentOptions } from './pong-multi-agent.js';

/** Pong's DQN settings over the `classic` preset (see the train block below). */
const PONG_DQN = {
  network: 'auto',
  bufferSize: 1_000_000,
  targetTau: 0.005,
  optimizer: { kind: 'adam', learningRate: 2.5e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
};

register('pong', (o) => new PongEnv(o as PongOptions), {
  maxEpisodeSteps: 6000,
  rewardThreshold: 3,
  description: "Pong on a 40x40 pixel field vs a scripted bot (botSkill) or a second player (mode: 'two-player'); +1/-1 per point, first to 5.",
  // PPO on the game's state (ball, paddles), as pong's self-play block: an NPC reads the game's
  // state. Seeds 0-4 end at 4.6-5 in under 4 minutes here. On the pixels PPO needs the small-cnn
  // torso (seeds 0-3 had positive evaluations by 250k-750k steps, at 1/20 of the state's frames
  // per second); with the Nature torso it got no further than -4.7 in 2M steps (bench/JOURNAL.md,
  // "Pong vs the bot" and "small-cnn"). `--agent dqn` also reads the state: the `classic` preset
  // with a buffer of the whole run, Polyak target updates, 3-step returns and Adam 2.5e-4; with
  // the preset's own settings the greedy evaluation swung between 5 and -3 as training went on
  // (bench/JOURNAL.md, "Pong: DQN on the state").
  train: {
    agent: 'ppo',
    steps: 2_000_000,
    envs: 16,
    config: { lr: 5e-4 },
    run: { envOptions: { obsType: 'state' }, evalEvery: 250_000, evalEpisodes: 20, logEvery: 10_000, checkpointEvery: 250_000 },
    agents: {
      dqn: {
        preset: 'classic',
        steps: 300_000,
        config: { ...PONG_DQN, nStep: 3 },
        run: { envOptions: { obsType: 'state' }, evalEvery: 25_000, evalEpisodes: 20, logEvery: 5_000, checkpointEvery: 50_000 },
        // DRQN trains 1-step targets; the rest is untuned.
        recurrent: { config: PONG_DQN },
      },
      // A2C on the state: rollouts of 32 steps, lr 2e-3 annealed, 3M steps (bench/JOURNAL.md,
      // "Pong: A2C on the state"); with A2C's own settings (5 steps, lr 7e-4) seeds 0 and 1 ended at
      // 3.4 and -1.05 at 2M.
      a2c: {
        steps: 3_000_000,
        envs: 16,
        config: { numSteps: 32, lr: 2e-3, annealLr: true },
        run: { envOptions: { obsType: 'state' }, evalEvery: 250_000, evalEpisodes: 20, logEvery: 25_000, checkpointEvery: 250_000 },
      },
    },
  },
});

registerMultiAgent('pong', (o) => new PongMultiAgentEnv(o as PongMultiAgentOptions), {
  description: "Pong with both paddles as agents (right, left); each sees itself as the right paddle; +1/-1 zero-sum per point, first to 5.",
  // `train pong --selfplay`: PPO on the game's state (ball, paddles), chosen by the runs in
  // docs/selfplay.md; an NPC reads the game's state, and pixels would cost ~20x the frames/s.
  train: { agent: 'ppo', steps: 2_000_000, envs: 16, config: { lr: 5e-4 }, run: { envOptions: { obsType: 'state' }, evalEvery: 250_000, evalEpisodes: 50 } },
});
