// The browser build's tfjs parts: those of tfjs.js, plus the chained ops (tensor.flatten() and the
// like, which tfjs-layers calls) that tfjs-core's browser modules register only when imported.
// The page's bundler resolves them next to the tfjs-core the rest imports (one copy); see tfjs.node.js for Node.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
export * from './tfjs.js';
