/** Policy bundles the runtime tests share, written with the exporter's own functions. */
import * as tf from '@tensorflow/tfjs';
import { basicPolicyFile, writePolicyBundle } from '../../src/export/export-policy.js';
import { buildQNetwork } from '../../src/networks/builders.js';

/** A one-step LSTM policy over 4 floats (8 units, 3 actions): inputs [obs, h, c], outputs [logits, h', c']. Returns its folder. */
export async function writeLstmBundle(dir: string): Promise<string> {
  const obs = tf.input({ shape: [4] });
  const h = tf.input({ shape: [8] });
  const c = tf.input({ shape: [8] });
  const seq = tf.layers.reshape({ targetShape: [1, 4] }).apply(obs) as tf.SymbolicTensor;
  const [out, h2, c2] = tf.layers.lstm({ units: 8, returnState: true, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(seq, { initialState: [h, c] }) as tf.SymbolicTensor[];
  const logits = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(out!) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [obs, h, c], outputs: [logits, h2!, c2!] });
  await writePolicyBundle(dir, basicPolicyFile({ game: 'memory-maze', agent: 'ppo', output: 'logits', observation: { shape: [4], dtype: 'float32', low: -1, high: 1 }, actions: ['a', 'b', 'c'], recurrentState: { shapes: [[8], [8]] } }), model);
  model.dispose();
  return dir;
}

/** A pixel CNN policy (game 'pix'): RGB 20x20 frames -> grayscale -> resize 10x10 -> stack 4 -> MinAtar CNN -> 6 Q-values. Returns its folder. */
export async function writePixelCnnBundle(dir: string): Promise<string> {
  const model = buildQNetwork({ inputShape: [10, 10, 4], numActions: 6, encoder: { kind: 'minatar-cnn' }, head: { kind: 'q' }, seed: 3 });
  await writePolicyBundle(dir, basicPolicyFile({ game: 'pix', frame: { shape: [20, 20, 3], dtype: 'uint8' }, preprocess: [{ kind: 'grayscale' }, { kind: 'resize', height: 10, width: 10 }, { kind: 'frameStack', k: 4 }], observation: { shape: [10, 10, 4], dtype: 'uint8', high: 255 }, inputScale: 1 / 255, actions: ['a', 'b', 'c', 'd', 'e', 'f'] }), model);
  model.dispose();
  return dir;
}
