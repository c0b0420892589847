/**
 * Ops: shape/dtype errors at build time (naming the op), then forward values through ONNX Runtime against
 * hand-computed results (exact for these small integer-valued cases unless a tolerance is stated).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Graph,
  type Tensor,
  add,
  concat,
  conv2d,
  convTranspose2d,
  crossEntropy,
  equal,
  expand,
  gather,
  gatherElements,
  gradients,
  layerNorm,
  logSoftmax,
  matmul,
  maxPool2d,
  maxPool2dWithIndices,
  oneHot,
  pad,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  scatterElements,
  sign,
  slice,
  softmax,
  sub,
  toOnnx,
  transpose,
  where,
  full,
  cast,
  im2col,
} from '../../src/graph/index.js';
import { type HostTensor, createSession } from '../../src/runtime/index.js';
import { maxAbsDiff } from '../helpers.js';

function throwsShape(build: () => unknown, pattern: RegExp): void {
  assert.throws(build, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'ESHAPE');
    assert.match(e.message, pattern);
    return true;
  });
}

test('shape and dtype errors are raised at build time and name the op', () => {
  const g = new Graph();
  const x = g.input('x', [4, 1, 64, 64]);
  const w = g.input('w', [16, 3, 3, 3]);
  throwsShape(() => conv2d(x, w), /^graph: Conv: input \[4,1,64,64\] has 1 channels but weight \[16,3,3,3\] expects 3/);
  throwsShape(() => matmul(g.input('a', [2, 3]), g.input('b', [4, 5])), /MatMul: inner dimensions differ: \[2,3\] x \[4,5\] \(3 vs 4\)/);
  throwsShape(() => add(g.input('c', [2, 3]), g.input('d', [4])), /Add: shapes \[2,3\] and \[4\] do not broadcast/);
  throwsShape(() => add(g.input('e', [2]), g.input('f', [2], 'float64')), /Add: dtype mismatch: 'e' is float32, 'f' is float64/);
  throwsShape(() => reshape(g.input('h', [2, 3]), [4, 2]), /Reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/);
  throwsShape(() => concat([g.input('i', [2, 3]), g.input('j', [3, 3])], 1), /Concat: shapes \[2,3\], \[3,3\] differ outside axis 1/);
  throwsShape(() => where(g.input('k', [2]), 1, 2), /Where: condition 'k' is float32, expected bool/);
  throwsShape(() => transpose(g.input('l', [2, 3]), [0, 0]), /Transpose: perm \[0,0\] is not a permutation/);
  throwsShape(() => maxPool2d(g.input('m', [1, 1, 3, 3]), { kernel: [4, 4] }), /MaxPool: kernel \[4,4\] is larger than input/);
  throwsShape(() => reduceSum(g.input('n', [2, 3]), [2]), /ReduceSum: axis 2 is out of range for rank 2/);
  throwsShape(() => g.input('x', [1]), /input: name 'x' is already used/);
  throwsShape(() => g.constant([1, 2, 3], [2, 2]), /constant: 3 values do not fill shape \[2,2\]/);
  throwsShape(() => g.output('x', relu(x)), /output name 'x' is already the name of an input/);
  const other = new Graph('other').input('o', [2, 3]);
  throwsShape(() => add(g.input('p', [2, 3]), other), /belongs to another graph/);
});

test('an op without a gradient rule fails loudly naming the op', () => {
  const g = new Graph();
  const x = g.input('x', [3, 2]);
  const idx = g.constant(BigInt64Array.of(0n, 2n), [2], 'int64');
  assert.throws(
    () => gradients(reduceSum(gather(x, idx, 0), [0, 1]), [x]),
    (e: Error & { code?: string }) => e.code === 'EGRAD' && /no gradient rule for op Gather/.test(e.message),
  );
  assert.throws(
    () => gradients(reduceSum(sign(x), [0, 1]), [x]),
    (e: Error & { code?: string }) => e.code === 'EGRAD' && /op Sign/.test(e.message),
  );
});

/** Builds a graph with inputs from `feeds`, runs it in ORT and returns the named outputs. */
async function run(
  feeds: Record<string, HostTensor>,
  build: (g: Graph, inputs: Record<string, Tensor>) => Record<string, Tensor>,
): Promise<Record<string, HostTensor>> {
  const g = new Graph('forward');
  const inputs: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const dtype = t.dtype ?? (t.data instanceof BigInt64Array ? 'int64' : t.data instanceof Float64Array ? 'float64' : 'float32');
    inputs[name] = g.input(name, t.shape, dtype);
  }
  for (const [name, t] of Object.entries(build(g, inputs))) g.output(name, t);
  const session = await createSession(toOnnx(g), { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const f32 = (values: number[], shape: number[]): HostTensor => ({ data: Float32Array.from(values), shape });
const values = (t: HostTensor | undefined): number[] => Array.from(t?.data as Float32Array, Number);

test('conv2d and its transpose: hand-computed 3x3 example', async () => {
  // x = 1..9 in a 3x3 image, w = ones 2x2, pad 0: each output is the sum of a 2x2 window.
  const out = await run(
    { x: f32([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), w: f32([1, 1, 1, 1], [1, 1, 2, 2]), b: f32([0.5], [1]) },
    (_, i) => ({
      y: conv2d(i.x!, i.w!, i.b!),
      same: conv2d(i.x!, i.w!, null, { pads: [1, 1, 0, 0] }),
      back: convTranspose2d(i.x!, i.w!), // [1,1,4,4]: each input spread over a 2x2 block
    }),
  );
  assert.deepEqual(values(out.y), [12.5, 16.5, 24.5, 28.5]);
  assert.deepEqual(out.same?.shape, [1, 1, 3, 3]);
  assert.deepEqual(values(out.same), [1, 3, 5, 5, 12, 16, 11, 24, 28]);
  assert.deepEqual(values(out.back), [1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9]);
});

test('maxPool2d floor mode drops the remainder; indices are flat over the whole input', async () => {
  // 2 channels of a 3x5 image; kernel 2 -> [1,2,1,2], rows 2 and column 4 dropped.
  const data = Array.from({ length: 30 }, (_, i) => (i * 7) % 30);
  const out = await run({ x: f32(data, [1, 2, 3, 5]) }, (_, i) => {
    const { values: v, indices } = maxPool2dWithIndices(i.x!, { kernel: [2, 2] });
    return { y: maxPool2d(i.x!, { kernel: [2, 2] }), v, indices };
  });
  // channel 0 rows 0-1: [0,7,14,21,28 / 5,12,19,26,3]; windows -> max(0,7,5,12)=12, max(14,21,19,26)=26
  // channel 1 rows 0-1: [15,22,29,6,13 / 20,27,4,11,18] -> 27, 29
  assert.deepEqual(out.y?.shape, [1, 2, 1, 2]);
  assert.deepEqual(values(out.y), [12, 26, 27, 29]);
  assert.deepEqual(values(out.v), [12, 26, 27, 29]);
  assert.deepEqual(Array.from(out.indices?.data as BigInt64Array, Number), [6, 8, 21, 17]);
});

test('reductions, softmax, log-softmax, layer norm, cross-entropy', async () => {
  const out = await run({ x: f32([1, 2, 3, 4, 5, 6], [2, 3]), labels: { data: BigInt64Array.of(2n, 0n), shape: [2] } }, (g, i) => ({
    sum: reduceSum(i.x!, [1]),
    mean: reduceMean(i.x!, [0], true),
    max: reduceMax(i.x!, [0, 1]),
    softmax: softmax(i.x!, 1),
    logSoftmax: logSoftmax(i.x!, 1),
    norm: layerNorm(i.x!, g.constant([1, 1, 1], [3]), g.constant([0, 0, 0], [3])),
    ce: crossEntropy(i.x!, i.labels!),
  }));
  assert.deepEqual(values(out.sum), [6, 15]);
  assert.deepEqual(out.mean?.shape, [1, 3]);
  assert.deepEqual(values(out.mean), [2.5, 3.5, 4.5]);
  assert.deepEqual(values(out.max), [6]);
  const z = 1 + Math.E + Math.E ** 2; // softmax of [1,2,3] = [1, e, e^2] / z
  assert.ok(maxAbsDiff(values(out.softmax), [1 / z, Math.E / z, Math.E ** 2 / z, 1 / z, Math.E / z, Math.E ** 2 / z]) < 1e-7);
  assert.ok(
    maxAbsDiff(
      values(out.logSoftmax),
      [-2, -1, 0, -2, -1, 0].map((v) => v - Math.log(z) + 2),
    ) < 1e-6,
  );
  const s = Math.sqrt(2 / 3 + 1e-5); // rows [1,2,3]: mean 2, biased var 2/3
  assert.ok(maxAbsDiff(values(out.norm), [-1 / s, 0, 1 / s, -1 / s, 0, 1 / s]) < 1e-6);
  // labels 2 and 0: -(log p[2] + log p[0]) / 2 with log p = [-2,-1,0] - log z + 2
  const lz = Math.log(z) - 2;
  assert.ok(Math.abs((values(out.ce)[0] as number) - (lz + (2 + lz)) / 2) < 1e-6);
});

test('shape ops and indexing: transpose, slice, pad, concat, expand, gather, scatter, one-hot, where, cast', async () => {
  const out = await run(
    {
      x: f32([1, 2, 3, 4, 5, 6], [2, 3]),
      idx: { data: BigInt64Array.of(2n, 0n), shape: [2] },
      idx2: { data: BigInt64Array.of(1n, 1n, 0n, 2n), shape: [2, 2] },
    },
    (g, i) => ({
      t: transpose(i.x!, [1, 0]),
      s: slice(i.x!, [1], [3], [1]),
      p: pad(i.x!, [0, 1, 1, 0]),
      c: concat([i.x!, i.x!], 0),
      e: expand(reshape(i.x!, [2, 1, 3]), [2, 2, 3]),
      gth: gather(i.x!, i.idx!, 1),
      ge: gatherElements(i.x!, i.idx2!, 1),
      sc: scatterElements(full(g, [2, 3], 0), i.idx2!, reshape(slice(i.x!, [0], [2], [1]), [2, 2]), 1, 'add'),
      oh: oneHot(i.idx!, 3),
      w: where(equal(i.x!, 4), i.x!, 0),
      cast: cast(sub(i.x!, 3.5), 'int64'),
    }),
  );
  assert.deepEqual(values(out.t), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(values(out.s), [2, 3, 5, 6]);
  assert.deepEqual(out.p?.shape, [3, 4]);
  assert.deepEqual(values(out.p), [0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0]);
  assert.deepEqual(values(out.c), [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(values(out.e), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  assert.deepEqual(values(out.gth), [3, 1, 6, 4]);
  assert.deepEqual(values(out.ge), [2, 2, 4, 6]);
  assert.deepEqual(values(out.sc), [0, 3, 0, 4, 0, 5]);
  assert.deepEqual(values(out.oh), [0, 0, 1, 1, 0, 0]);
  assert.deepEqual(values(out.w), [0, 0, 0, 4, 0, 0]);
  assert.deepEqual(Array.from(out.cast?.data as BigInt64Array, Number), [-2, -1, 0, 0, 1, 2]); // Cast truncates toward zero
});

test('reduceMax gradient splits ties evenly (torch.amax)', async () => {
  const g = new Graph();
  const x = g.input('x', [4]);
  const [dx] = gradients(reduceMax(x, [0]), [x]);
  g.output('dx', dx!);
  const session = await createSession(toOnnx(g), { threads: 1 });
  const out = await session.run({ x: f32([3, 1, 3, 2], [4]) });
  await session.release();
  assert.deepEqual(values(out.dx), [0.5, 0, 0.5, 0]);
});

test('maxPool2d gradient goes to the first maximum of a tied window, like PyTorch', async () => {
  const g = new Graph();
  const x = g.input('x', [1, 1, 2, 4]);
  const [dx] = gradients(reduceSum(maxPool2d(x, { kernel: [2, 2] }), [0, 1, 2, 3]), [x]);
  g.output('dx', dx!);
  const session = await createSession(toOnnx(g), { threads: 1 });
  // window 1 is all 5s, window 2 has 7 twice (second row first): torch picks the first in row-major order
  const out = await session.run({ x: f32([5, 5, 1, 2, 5, 5, 7, 7], [1, 1, 2, 4]) });
  await session.release();
  assert.deepEqual(values(out.dx), [1, 0, 0, 0, 0, 0, 1, 0]);
});

test('im2col: the kH*kW zero-padded shifted copies, one per row, shared per input; rank checked', async () => {
  const g = new Graph('im2col');
  const x = g.input('x', [1, 1, 2, 3]);
  const cols = im2col(x, [3, 3], [1, 1, 1, 1]); // [1, 9, 6]
  assert.deepEqual(cols.shape, [1, 9, 6]);
  assert.equal(im2col(x, [3, 3], [1, 1, 1, 1]), cols, 'built once per (x, kernel, pads)');
  throwsShape(
    () => im2col(new Graph('bad').input('v', [2, 3]), [3, 3], [1, 1, 1, 1]),
    /^graph: im2col: x is \[2,3\], expected \[N, C, H, W\]/,
  );
  g.output('cols', cols);
  const session = await createSession(toOnnx(g));
  try {
    const out = Array.from(
      (await session.run({ x: { data: Float32Array.of(1, 2, 3, 4, 5, 6), shape: [1, 1, 2, 3] } })).cols?.data as Float32Array,
    );
    // row k = (ky, kx): Xpad[y + ky, x + kx] for the 2 x 3 output positions; X = [[1, 2, 3], [4, 5, 6]]
    const xpad = (r: number, c: number) => (r >= 0 && r < 2 && c >= 0 && c < 3 ? r * 3 + c + 1 : 0);
    const expected: number[] = [];
    for (let k = 0; k < 9; k++)
      for (let y = 0; y < 2; y++) for (let c = 0; c < 3; c++) expected.push(xpad(y + Math.floor(k / 3) - 1, c + (k % 3) - 1));
    assert.deepEqual(out, expected);
  } finally {
    await session.release();
  }
});
