import { registerMultiAgent } from '../../src/envs/multi/registry.js';
import { TagEnv, type TagOptions } from './tag.js';

export { TagEnv, TAG_ACTIONS, TAG_AGENTS, TAG_CHANNELS, TAG_CHASERS, TAG_OPTIONS, resolveTagConfig, type TagConfig, type TagOptions, type TagView } from './tag.js';

registerMultiAgent('tag', (o) => new TagEnv(o as TagOptions), {
  description: 'Two chasers vs one evader on a 10x10 grid with walls, simultaneous moves; a catch: chasers +1 each, evader -1; 100 steps survived: evader +1.',
  // `train tag --selfplay`: one PPO policy for every seat on the view centred on the agent (the
  // whole-grid view learned far slower: docs/selfplay.md), the settings of pong's self-play block.
  train: { agent: 'ppo', steps: 1_000_000, envs: 16, config: { lr: 5e-4 }, run: { envOptions: { view: 'centred' }, evalEvery: 100_000, evalEpisodes: 50 } },
});
