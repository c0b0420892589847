import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DType, Graph, type Tensor, gradients, maxPool2dWithIndices, mul, reduceSum, toOnnx } from '../../src/graph/index.js';
import { NN_GRADIENTS, Rng, batchNorm2d, conv2dSame, convBatchNorm2dMaxPool } from '../../src/nn/index.js';
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

// Max pooling makes finite differences unreliable (a step can move a maximum), so the fused stage is compared
// with the plain chain, whose rules have their own finite-difference checks. Input offset like log-mel dB
// (mean -40), a negative gamma. Three paths: 2 -> 3 channels takes the output moments (BatchMoments); 1 -> 12 the
// input-patch moments (9 values per patch <= 12), on 7 x 9 with floor-mode pooling dropping the last row and
// column; on 8 x 10 the phase conv (max over the four pooling phases, no pooling indices), also with a
// constant input region (exact ties: the gradients of w, b, gamma and beta must still be the chain's, x's is
// routed differently at ties and not compared there).
for (const { cin, cout, height, width, ties } of [
  { cin: 2, cout: 3, height: 7, width: 9, ties: false },
  { cin: 1, cout: 12, height: 7, width: 9, ties: false },
  { cin: 1, cout: 12, height: 8, width: 10, ties: false },
  { cin: 1, cout: 12, height: 8, width: 10, ties: true },
] as const) {
  const path = cin * 9 > cout ? 'output moments' : height % 2 === 0 && width % 2 === 0 ? 'phase conv' : 'patch moments';
  test(`convBatchNorm2dMaxPool equals conv -> train BN -> max pool, ${cin} -> ${cout} channels, ${height} x ${width} (${path}${ties ? ', tied maxima' : ''}): output, statistics, gradients`, async () => {
    const shape = [4, cin, height, width];
    const rng = new Rng(5);
    const random = (n: number, scale: number, offset = 0) => Float32Array.from({ length: n }, () => offset + scale * rng.uniform(-1, 1));
    const x = random(4 * cin * height * width, 20, -40);
    // ties: rows 0..4 of columns 0..5 at the -80 dB floor in every image (windows inside it tie 4 ways)
    if (ties) for (let i = 0; i < x.length; i++) if (Math.floor(i / width) % height < 5 && i % width < 6) x[i] = -80;
    const feeds: Record<string, HostTensor> = {
      x: { data: x, shape },
      w: { data: random(cout * cin * 9, 0.3), shape: [cout, cin, 3, 3] },
      b: { data: random(cout, 1), shape: [cout] },
      gamma: { data: Float32Array.from({ length: cout }, (_, i) => (i % 3 === 1 ? -0.7 : 0.4 + 0.3 * i)), shape: [cout] },
      beta: { data: random(cout, 1), shape: [cout] },
      rm: { data: random(cout, 1), shape: [cout] },
      rv: { data: random(cout, 0.5, 1), shape: [cout] },
    };
    const weights = random(4 * cout * Math.floor(height / 2) * Math.floor(width / 2), 1);
    const results: Record<string, Float32Array>[] = [];
    for (const fused of [true, false]) {
      const g = new Graph('conv_bn_pool');
      const [x, w, b, gamma, beta, rm, rv] = (['x', 'w', 'b', 'gamma', 'beta', 'rm', 'rv'] as const).map((name) =>
        g.input(name, feeds[name]!.shape),
      ) as Tensor[];
      const params = { weight: gamma!, bias: beta!, runningMean: rm!, runningVar: rv! };
      const stage = fused
        ? convBatchNorm2dMaxPool(x!, { weight: w!, bias: b! }, params, 2)
        : (() => {
            const norm = batchNorm2d(conv2dSame(x!, w!, b!), params, 'train');
            return { ...norm, output: maxPool2dWithIndices(norm.output, { kernel: [2, 2] }).values };
          })();
      assert.equal(
        g.nodes.some((node) => node.op === 'BatchNormalization' && node.attrs.training_mode === 1),
        !fused,
      );
      if (fused) {
        assert.equal(
          g.nodes.some((node) => node.op === 'BatchMoments'),
          path === 'output moments',
          'moments of the output or of the patches',
        );
        assert.equal(
          g.nodes.some((node) => node.op === 'MaxPool'),
          path !== 'phase conv',
          'max over phases or pooling',
        );
      }
      const loss = reduceSum(mul(stage.output, g.constant(weights, stage.output.shape)), [0, 1, 2, 3]);
      const grads = gradients(loss, [x!, w!, b!, gamma!, beta!], { rules: NN_GRADIENTS });
      g.output('y', stage.output);
      for (const key of ['runningMean', 'runningVar', 'batchMean', 'batchVariance'] as const) g.output(key, stage[key] as Tensor);
      for (const [i, t] of grads.entries()) g.output(`grad${i}`, t);
      const session = await createSession(toOnnx(g));
      try {
        const out = await session.run(feeds);
        results.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array])));
      } finally {
        await session.release();
      }
    }
    const [fused, plain] = results as [Record<string, Float32Array>, Record<string, Float32Array>];
    // The conv bias's exact gradient is 0 (BN subtracts the batch mean): both are round-off.
    const largest = (a: Float32Array) => Math.max(...Array.from(a, Math.abs));
    for (const grads of [fused, plain]) assert.ok(largest(grads.grad2!) < 1e-5 * largest(grads.grad1!), `bias gradient ${grads.grad2}`);
    for (const key of Object.keys(plain).filter((k) => k !== 'grad2' && !(ties && k === 'grad0'))) {
      const error = relError(fused[key] as Float32Array, plain[key] as Float32Array);
      assert.ok(error < 1e-5, `${key}: relative difference ${error}`);
    }
  });
}
