/**
 * Finite-difference checks for EVERY rule of the gradient table (the last test fails when a rule has no
 * case here). Tolerances (max |fd - analytic| / max |analytic|):
 *   float64 cases: eps 1e-6, tolerance 1e-6 (truncation ~eps^2, rounding ~1e-16/eps);
 *   float32 cases (Conv/ConvTranspose/MaxUnpool/Erf have no float64 CPU kernel in ORT): eps 1e-2 on functions that are
 *   linear or smooth at that scale, tolerance 5e-3 (float32 rounding of the loss divided by 2 eps).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  GRADIENTS,
  abs,
  add,
  batchMoments,
  cast,
  concat,
  conv2d,
  crossEntropy,
  div,
  erf,
  exp,
  expand,
  gatherElements,
  layerNorm,
  linear,
  log,
  logSoftmax,
  matmul,
  maxPool2d,
  maxPool2dWithIndices,
  mul,
  neg,
  pad,
  pow,
  reciprocal,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  sigmoid,
  slice,
  softmax,
  sqrt,
  sub,
  tanh,
  transpose,
  where,
  identity,
} from '../../src/graph/index.js';
import { type GradientCase, checkGradient, rng } from './check-gradient.js';

const positive = (n: number, seed = 7): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => 0.5 + 1.5 * r());
};
/** Distinct values spaced 0.05 apart in random order: max-pool/max windows never tie within 2 eps. */
const distinct = (n: number, seed = 9): number[] => {
  const r = rng(seed);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j] as number, v[i] as number];
  }
  return v;
};

const F32 = { dtype: 'float32' as const, eps: 1e-2, tolerance: 5e-3 };

const cases: GradientCase[] = [
  { ops: ['Add'], name: 'add broadcast', inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }], build: (a, b) => add(a!, b!) },
  { ops: ['Sub'], name: 'sub broadcast', inputs: [{ shape: [4] }, { shape: [2, 3, 4] }], build: (a, b) => sub(a!, b!) },
  { ops: ['Mul'], name: 'mul broadcast + fan-in', inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], build: (a, b) => mul(mul(a!, b!), a!) },
  { ops: ['Div'], name: 'div', inputs: [{ shape: [2, 3] }, { shape: [3], data: positive(3) }], build: (a, b) => div(a!, b!) },
  {
    ops: ['Pow'],
    name: 'pow base and exponent',
    inputs: [{ shape: [2, 3], data: positive(6) }, { shape: [2, 3] }],
    build: (a, b) => pow(a!, b!),
  },
  { ops: ['Pow'], name: 'pow constant exponent', inputs: [{ shape: [5] }], build: (a) => pow(a!, 2) },
  { ops: ['Neg', 'Identity'], name: 'neg identity', inputs: [{ shape: [3, 2] }], build: (a) => neg(identity(a!)) },
  { ops: ['Relu'], name: 'relu', inputs: [{ shape: [4, 5] }], build: (a) => relu(a!) },
  { ops: ['Exp'], name: 'exp', inputs: [{ shape: [6] }], build: (a) => exp(a!) },
  { ops: ['Log'], name: 'log', inputs: [{ shape: [6], data: positive(6) }], build: (a) => log(a!) },
  { ops: ['Sqrt'], name: 'sqrt', inputs: [{ shape: [6], data: positive(6) }], build: (a) => sqrt(a!) },
  { ops: ['Reciprocal'], name: 'reciprocal', inputs: [{ shape: [6], data: positive(6) }], build: (a) => reciprocal(a!) },
  { ops: ['Tanh'], name: 'tanh', inputs: [{ shape: [6] }], build: (a) => tanh(a!) },
  { ops: ['Sigmoid'], name: 'sigmoid', inputs: [{ shape: [6] }], build: (a) => sigmoid(a!) },
  { ops: ['Erf'], name: 'erf (float32)', inputs: [{ shape: [8] }], build: (a) => erf(a!), ...F32, eps: 1e-2, tolerance: 5e-3 },
  { ops: ['Abs'], name: 'abs', inputs: [{ shape: [6], data: distinct(6) }], build: (a) => abs(add(a!, 0.01)) },
  {
    ops: ['Cast'],
    name: 'cast float32 -> float64',
    inputs: [{ shape: [5] }],
    build: (a) => mul(cast(a!, 'float64'), cast(a!, 'float64')),
    ...F32,
  },
  {
    ops: ['Where'],
    name: 'where',
    inputs: [{ shape: [2, 3], dtype: 'bool', data: [1, 0, 1, 1, 0, 0] }, { shape: [2, 3] }, { shape: [3] }],
    build: (c, a, b) => where(c!, a!, b!),
  },
  {
    ops: ['MatMul'],
    name: 'matmul activations x weight',
    inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }],
    build: (a, b) => matmul(a!, b!),
  },
  { ops: ['MatMul'], name: 'matmul batched', inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], build: (a, b) => matmul(a!, b!) },
  { ops: ['MatMul'], name: 'matmul broadcast a', inputs: [{ shape: [3, 4] }, { shape: [2, 4, 5] }], build: (a, b) => matmul(a!, b!) },
  {
    ops: ['Conv'],
    name: 'conv 3x3 pad 1 with bias',
    inputs: [{ shape: [2, 3, 6, 5] }, { shape: [4, 3, 3, 3] }, { shape: [4] }],
    build: (x, w, b) => conv2d(x!, w!, b!, { pads: 1 }),
    ...F32,
  },
  {
    ops: ['Conv'],
    name: 'conv 1 input channel, asymmetric pads, no bias',
    inputs: [{ shape: [3, 1, 5, 7] }, { shape: [2, 1, 2, 3] }],
    build: (x, w) => conv2d(x!, w!, null, { pads: [1, 0, 0, 2] }),
    ...F32,
  },
  {
    ops: ['Conv'],
    name: 'conv 1x1 kernel with pad 1 (ConvTranspose fallback for dX)',
    inputs: [{ shape: [2, 2, 3, 4] }, { shape: [3, 2, 1, 1] }, { shape: [3] }],
    build: (x, w, b) => conv2d(x!, w!, b!, { pads: 1 }),
    ...F32,
  },
  {
    ops: ['MaxPool'],
    name: 'maxpool 2x2, odd sizes (remainder dropped)',
    inputs: [{ shape: [2, 3, 5, 7], data: distinct(210) }],
    build: (x) => maxPool2d(x!, { kernel: [2, 2] }),
    ...F32, // MaxUnpool has only a float32 CPU kernel; values 0.05 apart never change order within +-eps
  },
  {
    ops: ['MaxPool'],
    name: 'maxpool 4x4 then 2x2 kernel stride 1 (overlapping windows)',
    inputs: [{ shape: [1, 2, 9, 10], data: distinct(180, 3) }],
    build: (x) => maxPool2d(maxPool2d(x!, { kernel: [4, 4] }), { kernel: [2, 2], strides: [1, 1] }),
    ...F32,
  },
  {
    ops: ['MaxPool'],
    name: 'maxpool with forward indices output, kernel [2,3]',
    inputs: [{ shape: [2, 2, 4, 7], data: distinct(112, 5) }],
    build: (x) => maxPool2dWithIndices(x!, { kernel: [2, 3] }).values,
    ...F32,
  },
  { ops: ['ReduceSum'], name: 'reduce sum axes 0,2', inputs: [{ shape: [2, 3, 4] }], build: (a) => reduceSum(a!, [0, 2]) },
  { ops: ['ReduceMean'], name: 'reduce mean keepdims', inputs: [{ shape: [2, 3, 4] }], build: (a) => reduceMean(a!, [-1], true) },
  {
    ops: ['BatchMoments'],
    name: 'batch moments (mean, biased variance per channel)',
    inputs: [{ shape: [2, 3, 4, 5] }],
    build: (a) => batchMoments(a!),
  },
  { ops: ['ReduceMax'], name: 'reduce max', inputs: [{ shape: [3, 4], data: distinct(12) }], build: (a) => reduceMax(a!, [1]) },
  { ops: ['Softmax'], name: 'softmax axis 1', inputs: [{ shape: [2, 4, 3] }], build: (a) => softmax(a!, 1) },
  { ops: ['LogSoftmax'], name: 'log softmax last axis', inputs: [{ shape: [3, 5] }], build: (a) => logSoftmax(a!, -1) },
  {
    ops: ['Reshape', 'Transpose'],
    name: 'reshape transpose',
    inputs: [{ shape: [2, 3, 4] }],
    build: (a) => transpose(reshape(a!, [6, 2, 2]), [2, 0, 1]),
  },
  {
    ops: ['Concat'],
    name: 'concat with a repeated input',
    inputs: [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }],
    build: (a, b) => concat([a!, b!, a!], 1),
  },
  { ops: ['Slice'], name: 'slice two axes', inputs: [{ shape: [4, 5, 3] }], build: (a) => slice(a!, [1, 0], [3, 4], [0, 1]) },
  { ops: ['Pad'], name: 'pad', inputs: [{ shape: [2, 3] }], build: (a) => pad(a!, [1, 0, 0, 2]) },
  { ops: ['Expand'], name: 'expand', inputs: [{ shape: [3, 1] }], build: (a) => expand(a!, [2, 3, 4]) },
  {
    ops: ['GatherElements'],
    name: 'gather elements with repeated indices',
    inputs: [{ shape: [3, 4] }, { shape: [3, 2], dtype: 'int64', data: [0, 0, 3, 1, 2, 2] }],
    build: (a, i) => gatherElements(a!, i!, 1),
  },
  // composites: these exercise chains of rules with fan-in
  {
    ops: ['LayerNormalization'],
    name: 'layer norm',
    inputs: [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }],
    build: (x, g, b) => layerNorm(x!, g!, b!),
  },
  {
    ops: [],
    name: 'cross entropy',
    inputs: [{ shape: [4, 3] }, { shape: [4], dtype: 'int64', data: [0, 2, 1, 2] }],
    build: (x, y) => crossEntropy(x!, y!),
  },
  { ops: [], name: 'linear', inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }], build: (x, w, b) => linear(x!, w!, b!) },
];

for (const c of cases) {
  test(`gradient ${c.name}`, async () => {
    const report = await checkGradient(c);
    const tolerance = c.tolerance ?? 1e-6;
    assert.ok(
      report.worst <= tolerance,
      `${c.name}: FD relative errors [${report.errors.map((e) => e.toExponential(2)).join(', ')}] > ${tolerance}`,
    );
  });
}

test('every gradient rule has a finite-difference case', () => {
  const covered = new Set(cases.flatMap((c) => c.ops));
  const missing = Object.keys(GRADIENTS).filter((op) => !covered.has(op));
  assert.deepEqual(missing, []);
});
