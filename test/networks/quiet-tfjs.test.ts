import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

// In a child process: the messages are printed once per process, and vitest's own console capture
// would hide what a user sees.
const script = `
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './dist/src/networks/backend.js';
// The cpu backend's first tensor in Node prints tfjs's "Hi, looks like you are running..." banner,
// also when it comes before initBackend (as in tests and library code that use tfjs directly).
await tf.setBackend('cpu');
tf.tensor([1, 2, 3]).dispose();
await initBackend({ prefer: 'cpu' });
// An LSTM of 32 units: the Orthogonal initialiser warns for its 32x128 recurrent kernel.
const x = tf.input({ shape: [4, 3] });
const h0 = tf.input({ shape: [32] });
const c0 = tf.input({ shape: [32] });
// Called with tensors as keyword arguments (initial state): serialising warns "non-serializable keyword arguments".
const y = tf.layers.lstm({ units: 32 }).apply(x, { initialState: [h0, c0] });
const model = tf.model({ inputs: [x, h0, c0], outputs: y });
model.toJSON();
console.warn('our own warning still passes');
`;

describe('tfjs console noise', () => {
  it('hides the Node.js banner, the Orthogonal slowness and the non-serializable kwargs warnings, and nothing else', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, NPCFORGE_BACKEND: '' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual(['npcforge: compute backend cpu', 'our own warning still passes']);
  });
});
