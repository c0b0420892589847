/** ONNX serialisation: the model bytes decode with onnx-proto as written, and ORT loads and runs them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { Graph, OPSET, add, batchMoments, floatInitializers, matmul, reduceSum, relu, reshape, toOnnx } from '../../src/graph/index.js';
import { createSession } from '../../src/runtime/index.js';

function buildGraph(): Graph {
  const g = new Graph('roundtrip');
  const x = g.input('x', [2, 3]);
  const w = g.constant(Float32Array.of(1, -1, 2, 0.5, -3, 1), [3, 2], 'float32', 'weight');
  const h = g.scope('layer', () => relu(add(matmul(x, w), 1)));
  g.output('y', h);
  g.output('total', reduceSum(h, [0, 1]));
  g.output('x_again', x); // an input exposed as output goes through Identity
  add(x, 5); // dead node: not written
  return g;
}

test('toOnnx writes opset, readable names, raw float32 initializers and live nodes only', () => {
  const model = onnxProto.onnx.ModelProto.decode(toOnnx(buildGraph()));
  assert.equal(Number(model.opsetImport[0]?.version), OPSET);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  assert.deepEqual(
    graph.input.map((i) => i.name),
    ['x'],
  );
  assert.deepEqual(
    graph.output.map((o) => o.name),
    ['y', 'total', 'x_again'],
  );
  assert.deepEqual(
    graph.node.map((n) => n.opType),
    ['MatMul', 'Add', 'Relu', 'ReduceSum', 'Identity'],
  );
  assert.match(String(graph.node[0]?.name), /^layer\/MatMul_\d+$/);
  const weight = graph.initializer.find((t) => String(t.name).startsWith('weight')) as onnxProto.onnx.TensorProto;
  assert.deepEqual(weight.dims.map(Number), [3, 2]);
  assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(weight.rawData).buffer)), [1, -1, 2, 0.5, -3, 1]);
  // ReduceSum (opset 13+) takes axes as an int64 input
  assert.equal(graph.node[3]?.input?.length, 2);
});

test('floatInitializers reads the float32 constants back by name and shape (int64 ones left out)', () => {
  const initializers = floatInitializers(toOnnx(buildGraph()));
  const names = [...initializers.keys()];
  assert.equal(names.length, 2, names.join()); // the weight and the scalar 1; ReduceSum's int64 axes are left out
  const weight = initializers.get(names.find((n) => n.startsWith('weight_')) as string);
  assert.deepEqual(weight?.shape, [3, 2]);
  assert.deepEqual(Array.from(weight?.data ?? []), [1, -1, 2, 0.5, -3, 1]);
});

test('the serialised model runs in ORT with optimisation off and all, with equal results', async () => {
  const bytes = toOnnx(buildGraph());
  const feeds = { x: { data: Float32Array.of(1, 2, 3, -1, 0, 1), shape: [2, 3] } };
  // x W + 1: row 1 = [1 + 4 - 9, -1 + 1 + 3] + 1 = [-3, 4]; row 2 = [-1 + 0 - 3, 1 + 0 + 1] + 1 = [-3, 3]
  for (const optimizationLevel of ['disabled', 'all'] as const) {
    const session = await createSession(bytes, { threads: 1, optimizationLevel });
    const out = await session.run(feeds);
    await session.release();
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [0, 4, 0, 3]);
    assert.deepEqual(Array.from(out.total!.data as Float32Array), [7]);
    assert.deepEqual(Array.from(out.x_again!.data as Float32Array), [1, 2, 3, -1, 0, 1]);
  }
});

test('dynamicBatch: a symbolic batch axis (inputs, outputs, Reshape targets); a batch the graph cannot free is refused', async () => {
  const BATCH = 1_000_003; // the build-time batch size: a value no other dimension has
  const g = new Graph('dynamic');
  const x = g.input('x', [BATCH, 2, 3]);
  const w = g.constant(Float32Array.of(1, -1, 2, 0.5, -3, 1), [6, 1], 'float32', 'weight');
  g.output('y', matmul(reshape(x, [BATCH, 6]), w)); // [batch, 1]
  const bytes = toOnnx(g, { dynamicBatch: BATCH });
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const output = model.graph?.output?.[0]?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(output, ['batch', 1]);
  // only the rewritten Reshape target is written (the original would be an unused initializer ORT warns about)
  assert.equal(model.graph?.initializer?.filter((t) => t.dataType === 7).length, 1);
  const session = await createSession(bytes, { threads: 1 });
  try {
    assert.deepEqual(session.inputShapes.x, ['batch', 2, 3]);
    for (const n of [1, 3]) {
      const data = Float32Array.from({ length: n * 6 }, (_, i) => i);
      const out = (await session.run({ x: { data, shape: [n, 2, 3] } })).y?.data as Float32Array;
      const expected = Array.from({ length: n }, (_, r) => [1, -1, 2, 0.5, -3, 1].reduce((sum, wi, k) => sum + wi * (r * 6 + k), 0));
      assert.deepEqual(Array.from(out), expected);
    }
  } finally {
    await session.release();
  }
  const merged = new Graph('merged');
  merged.output('y', reshape(merged.input('x', [BATCH, 2, 3]), [BATCH * 2, 3]));
  assert.throws(() => toOnnx(merged, { dynamicBatch: BATCH }), /holds the batch size 1000003 twice or merged with another axis/);
  const moments = new Graph('moments');
  moments.output('m', batchMoments(moments.input('x', [BATCH, 2, 3, 4])));
  assert.throws(() => toOnnx(moments, { dynamicBatch: BATCH }), /BatchMoments .* is lowered with a fixed batch/);
  const fixed = await createSession(toOnnx(buildGraph()), { threads: 1 });
  assert.deepEqual(fixed.inputShapes.x, [2, 3]);
  await fixed.release();
});
