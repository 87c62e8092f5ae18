/** Public API of npcforge. Importing it registers the bundled games. */
import '../games/index.js';

export * from './errors.js';
export * from './envs/index.js';
export { initBackend, backendInfo, BACKEND_NAMES } from './networks/backend.js';
export type { BackendName, BackendInfo, InitBackendOptions } from './networks/backend.js';
export { selectActionValues } from './networks/select.js';
