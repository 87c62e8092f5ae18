/** Public API of npcforge. Importing it registers the bundled games. */
import '../games/index.js';

export * from './errors.js';
export * from './envs/index.js';
export * from './replay/episodes/index.js';
export { startViewerServer, defaultAssetsDir, DEFAULT_VIEWER_HOST, type ViewerServer, type ViewerServerOptions } from './render/server.js';
export * from './networks/index.js';
export * from './replay/buffer/index.js';
export * from './agents/index.js';
export * from './train/index.js';
export { initBackend, backendInfo, BACKEND_NAMES } from './networks/backend.js';
export type { BackendName, BackendInfo, InitBackendOptions } from './networks/backend.js';
export { selectActionValues } from './networks/select.js';
export { computeSaliency, saliencyUnsupported, saliencyTargetUnsupported, saliencyInput, defaultPerturbation, gaussianBlur, type SaliencyMap, type SaliencyMethod, type SaliencyOptions, type SaliencyTarget, type ChannelReduce, type GradientSaliencyOptions, type PerturbationSaliencyOptions } from './runtime/saliency.js';
