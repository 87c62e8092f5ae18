// Types of src/tfjs.js: the runtime's declarations refer to tfjs types (LayersModel, Tensor, io) through it.
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
