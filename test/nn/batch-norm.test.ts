import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DType, Graph, type Tensor, gradients, maxPool2dWithIndices, mul, reduceSum, toOnnx } from '../../src/graph/index.js';
import { NN_GRADIENTS, Rng, batchNorm2d } from '../../src/nn/index.js';
import { type HostTensor, createSession } from '../../src/runtime/index.js';
import { relError } from '../helpers.js';

test('train-mode BN on a hand-computed channel: output, batch statistics, running-statistics update', async () => {
  // One channel, x = 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased var 5/3.
  const g = new Graph('bn');
  const x = g.input('x', [2, 1, 1, 2]);
  const p = (name: string, value: number) => g.constant(Float32Array.of(value), [1], 'float32', name);
  const out = batchNorm2d(x, { weight: p('w', 2), bias: p('b', 0.5), runningMean: p('rm', 1), runningVar: p('rv', 1) }, 'train');
  g.output('y', out.output);
  g.output('rm', out.runningMean as Tensor);
  g.output('rv', out.runningVar as Tensor);
  const session = await createSession(toOnnx(g));
  try {
    const r = await session.run({ x: { data: Float32Array.of(1, 2, 3, 4), shape: [2, 1, 1, 2] } });
    const y = [1, 2, 3, 4].map((v) => ((v - 2.5) / Math.sqrt(1.25 + 1e-5)) * 2 + 0.5);
    assert.ok(Math.max(...Array.from(r.y?.data as Float32Array, (v, i) => Math.abs(v - (y[i] as number)))) < 1e-6);
    assert.ok(Math.abs((r.rm!.data as Float32Array)[0]! - (0.9 * 1 + 0.1 * 2.5)) < 1e-7);
    assert.ok(Math.abs((r.rv!.data as Float32Array)[0]! - (0.9 * 1 + 0.1 * (5 / 3))) < 1e-6);
  } finally {
    await session.release();
  }
});

/** Central differences of loss = sum(BN(x) * r) against the fused rule, for x, gamma and beta. */
async function fdCheck(): Promise<number> {
  const dtype: DType = 'float32';
  const shape = [3, 2, 3, 4];
  const rng = new Rng(11);
  const random = (n: number, scale: number, offset = 0) => Float32Array.from({ length: n }, () => offset + scale * rng.uniform(-1, 1));
  const values: Record<string, Float32Array> = { x: random(72, 3, 5), gamma: random(2, 1, 1), beta: random(2, 1) };
  const g = new Graph('bn_fd');
  const x = g.input('x', shape, dtype);
  const gamma = g.input('gamma', [2], dtype);
  const beta = g.input('beta', [2], dtype);
  const zeros = g.constant(new Float32Array(2), [2], dtype);
  const ones = g.constant(new Float32Array(2).fill(1), [2], dtype);
  const y = batchNorm2d(x, { weight: gamma, bias: beta, runningMean: zeros, runningVar: ones }, 'train').output;
  const loss = reduceSum(mul(y, g.constant(random(72, 1), shape, dtype)), [0, 1, 2, 3]);
  const grads = gradients(loss, [x, gamma, beta], { rules: NN_GRADIENTS });
  g.output('loss', loss);
  for (const [i, t] of grads.entries()) g.output(`grad${i}`, t);
  const session = await createSession(toOnnx(g));
  try {
    const feeds = (): Record<string, HostTensor> => ({
      x: { data: values.x as Float32Array, shape },
      gamma: { data: values.gamma as Float32Array, shape: [2] },
      beta: { data: values.beta as Float32Array, shape: [2] },
    });
    const analytic = await session.run(feeds());
    const eps = 1e-2;
    let worst = 0;
    for (const [k, name] of ['x', 'gamma', 'beta'].entries()) {
      const data = values[name] as Float32Array;
      const grad = analytic[`grad${k}`]?.data as Float32Array;
      const scale = Math.max(1e-3, ...Array.from(grad, Math.abs));
      for (let i = 0; i < data.length; i++) {
        const keep = data[i] as number;
        data[i] = keep + eps;
        const plus = ((await session.run(feeds(), ['loss'])).loss!.data as Float32Array)[0] as number;
        data[i] = keep - eps;
        const minus = ((await session.run(feeds(), ['loss'])).loss!.data as Float32Array)[0] as number;
        data[i] = keep;
        worst = Math.max(worst, Math.abs((plus - minus) / (2 * eps) - (grad[i] as number)) / scale);
      }
    }
    return worst;
  } finally {
    await session.release();
  }
}

test('fused BN gradient rule matches finite differences (x, gamma, beta)', async () => {
  // ORT's training-mode BatchNormalization kernel is float32 only, so the differences use eps 1e-2 in float32;
  // their own round-off is ~1e-4 of the gradient scale.
  const worst = await fdCheck();
  console.log(`BN finite differences (float32): worst relative error ${worst.toExponential(2)}`);
  assert.ok(worst < 2e-3, `worst ${worst}`);
});

test('BN followed by max pooling: the pooled fast path gives the general path\'s gradients (also when pooling drops a row and a column)', async () => {
  // Finite differences are unreliable through max pooling (a 1e-2 step can move a maximum), so the fast path
  // is compared with the general path, forced by a x1 between BN and the pool (dy then comes from a Mul).
  const shape = [4, 3, 7, 9]; // 2x2 pooling in floor mode ignores the last row and column
  const rng = new Rng(5);
  const random = (n: number, scale: number, offset = 0) => Float32Array.from({ length: n }, () => offset + scale * rng.uniform(-1, 1));
  const feeds = {
    x: { data: random(756, 4, 10), shape },
    gamma: { data: random(3, 1, 0.5), shape: [3] },
    beta: { data: random(3, 1), shape: [3] },
  };
  const weights = random(4 * 3 * 3 * 4, 1);
  const results: Float32Array[][] = [];
  for (const general of [false, true]) {
    const g = new Graph('bn_pool');
    const x = g.input('x', shape);
    const gamma = g.input('gamma', [3]);
    const beta = g.input('beta', [3]);
    const stats = { runningMean: g.constant(new Float32Array(3), [3]), runningVar: g.constant(new Float32Array(3).fill(1), [3]) };
    const normalised = batchNorm2d(x, { weight: gamma, bias: beta, ...stats }, 'train').output;
    const pooled = maxPool2dWithIndices(general ? mul(normalised, 1) : normalised, { kernel: [2, 2] }).values;
    const loss = reduceSum(mul(pooled, g.constant(weights, pooled.shape)), [0, 1, 2, 3]);
    const grads = gradients(loss, [x, gamma, beta], { rules: NN_GRADIENTS });
    assert.equal(
      g.nodes.some((node) => node.op === 'GatherElements'),
      !general,
      'fast path taken exactly when BN feeds the pool',
    );
    for (const [i, t] of grads.entries()) g.output(`grad${i}`, t);
    const session = await createSession(toOnnx(g));
    try {
      const out = await session.run(feeds);
      results.push([0, 1, 2].map((i) => out[`grad${i}`]?.data as Float32Array));
    } finally {
      await session.release();
    }
  }
  const [fast, general] = results as [Float32Array[], Float32Array[]];
  for (let i = 0; i < 3; i++) {
    const error = relError(fast[i] as Float32Array, general[i] as Float32Array);
    assert.ok(error < 1e-5, `gradient ${i}: relative difference ${error}`);
  }
});
