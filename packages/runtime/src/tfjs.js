// The parts of TensorFlow.js the runtime uses, standing in for '@tensorflow/tfjs' when
// scripts/bundle-runtime.mjs builds this package: the core ops and io, Layers models
// (loadLayersModel), and the cpu and webgl backends. Converter (graph models) and data are
// left out; they are most of @tensorflow/tfjs's install size and none of inference's work.
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
