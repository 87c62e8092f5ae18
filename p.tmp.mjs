import * as tf from '@tensorflow/tfjs';
if(process.argv[2]==='wasm'){await import('@tensorflow/tfjs-backend-wasm');} await tf.setBackend(process.argv[2]||'cpu');
for (const [B,H] of [[64,64],[32,64],[64,128],[128,64]]) {
const m = tf.sequential({layers:[tf.layers.dense({inputShape:[4],units:H,activation:'relu'}),tf.layers.dense({units:H,activation:'relu'}),tf.layers.dense({units:2})]});
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([B,4]); const y = tf.randomNormal([B,2]);
for (let i=0;i<50;i++){ const l = opt.minimize(()=>tf.losses.meanSquaredError(y,m.apply(x)),true); l.dispose(); }
let t=performance.now();
for (let i=0;i<300;i++){ const l = opt.minimize(()=>tf.losses.meanSquaredError(y,m.apply(x)),true); l.dispose(); }
console.log(B,H,'update ms', (performance.now()-t)/300);
}
