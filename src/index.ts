/** Public API of npcforge. Importing it registers the bundled games. */
import '../games/index.js';

export * from './errors.js';
export * from './envs/index.js';
export * from './networks/index.js';
export * from './replay/buffer/index.js';
export * from './agents/index.js';
export * from './train/index.js';
