import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from '/work/main/src/cli/nodeBackend';
await useNodeBackend((process.argv[2] ?? 'wasm') as 'wasm');
function time(label: string, f: () => tf.Tensor | tf.Tensor[]) {
	for (let i = 0; i < 2; i++) tf.dispose(f());
	const t = performance.now();
	for (let i = 0; i < 5; i++) tf.dispose(f());
	console.log(label.padEnd(40), ((performance.now() - t) / 5).toFixed(2), 'ms');
}
const x = tf.randomNormal([1, 126, 126, 64]) as tf.Tensor4D;
const f = tf.randomNormal([1, 126, 64, 16]) as tf.Tensor4D;
time('depthwise a@v', () => tf.depthwiseConv2d(x, f, 1, 'valid'));
const x2 = tf.randomNormal([1, 126, 16, 64]) as tf.Tensor4D;
const f2 = tf.randomNormal([1, 16, 64, 126]) as tf.Tensor4D;
time('depthwise q@kT', () => tf.depthwiseConv2d(x2, f2, 1, 'valid'));
const z = tf.randomNormal([2016, 256]);
time('tanh', () => tf.tanh(z));
time('sigmoid', () => tf.sigmoid(z));
time('exp', () => tf.exp(z));
time('tanh via exp', () => tf.tidy(() => tf.sub(1, tf.div(2, tf.add(tf.exp(tf.mul(z, 2)), 1)))));
time('tanh via sigmoid', () => tf.tidy(() => tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1)));
