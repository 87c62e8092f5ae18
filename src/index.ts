/** Public API of npcforge. Importing it registers the bundled games. */
import '../games/index.js';

export * from './errors.js';
export * from './envs/index.js';
