// The Node build's tfjs parts: those of tfjs.js, plus tfjs-core's chained ops (tensor.flatten()
// and the like, which tfjs-layers calls), bundled into the build from tfjs-core's ES modules:
// tfjs-core's CommonJS build, which Node loads, does not register them.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
export * from './tfjs.js';
