import * as tf from '@tensorflow/tfjs-core';
import { backend } from '../tests/helpers';
await backend('webgpu');
async function time(name: string, f: () => tf.Tensor, n = 5) {
  let r = f(); await r.data(); r.dispose();
  const t = performance.now();
  for (let i = 0; i < n; i++) { r = f(); if (i < n - 1) r.dispose(); }
  await r.data(); r.dispose();
  console.log(name, ((performance.now() - t) / n).toFixed(2), 'ms');
}
const a = tf.randomNormal([2016, 64]), w = tf.randomNormal([64, 256]);
const q = tf.randomNormal([64, 126, 16]);
for (const t of [0,1,2,3]) {
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', t);
  await time('type '+t+' matmul 2016x64x256', () => tf.matMul(a, w));
  await time('type '+t+' batched qkT', () => tf.matMul(q, q, false, true));
}
process.exit(0);
