// The parts of TensorFlow.js the runtime uses, standing in for '@tensorflow/tfjs' when
// scripts/bundle-runtime.mjs builds this package: a few core ops and io, Layers models
// (loadLayersModel), and the cpu and webgl backends. Converter (graph models) and data are left
// out; they are most of @tensorflow/tfjs's install size and none of inference's work. Named
// exports, not `export *`: a game's bundler then keeps only these of tfjs-core and tfjs-layers
// (a re-exported namespace keeps all of both). The build fails if src/runtime uses a name missing here.
export { concat, getBackend, io, ready, setBackend, softmax, split, tensor, tidy, zeros } from '@tensorflow/tfjs-core';
export { loadLayersModel } from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
