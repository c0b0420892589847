/**
 * NCHWc lowering of Convs with fed weights (toOnnx({nchwcBlock})): same values as the plain ONNX Conv, for
 * the forward conv and the gradient convs built by autodiff. Tolerance 1e-5 relative (different summation
 * order of float32 accumulations).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { Graph, conv2d, gradients, mul, reduceSum, relu, toOnnx } from '../../src/graph/index.js';
import { type HostTensor, createSession, nchwcBlockSize } from '../../src/runtime/index.js';
import { relError } from '../helpers.js';

test('NCHWc-lowered convs (forward and gradients) equal plain ONNX Conv', async (t) => {
  const block = await nchwcBlockSize();
  if (block === 0) {
    t.skip('ONNX Runtime uses no NCHWc kernels on this machine');
    return;
  }
  const c = 2 * block;
  const g = new Graph('nchwc');
  const x = g.input('x', [2, c, 9, 7]);
  const w = g.input('w', [c, c, 3, 3]);
  const b = g.input('b', [c]);
  const r = g.input('r', [2, c, 9, 7]);
  const y = conv2d(relu(x), w, b, { pads: 1 });
  const [dx, dw, db] = gradients(reduceSum(mul(y, r), [0, 1, 2, 3]), [x, w, b]);
  g.output('y', y);
  g.output('dx', dx!);
  g.output('dw', dw!);
  g.output('db', db!);
  const fill = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));
  const feeds = {
    x: { data: fill(2 * c * 63, 0.37), shape: [2, c, 9, 7] },
    w: { data: fill(c * c * 9, 1.1), shape: [c, c, 3, 3] },
    b: { data: fill(c, 2.3), shape: [c] },
    r: { data: fill(2 * c * 63, 0.71), shape: [2, c, 9, 7] },
  };
  const lowered = toOnnx(g, { nchwcBlock: block });
  const nchwcConvs = onnxProto.onnx.ModelProto.decode(lowered).graph?.node?.filter(
    (n) => n.domain === 'com.microsoft.nchwc' && n.opType === 'Conv',
  );
  assert.equal(nchwcConvs?.length, 2, 'the forward conv and the dX conv (flipped fed weights) are lowered');
  const results = [];
  for (const bytes of [toOnnx(g), lowered]) {
    const session = await createSession(bytes, { threads: 2, optimizationLevel: 'extended' });
    results.push(await session.run(feeds));
    await session.release();
  }
  const [plain, nchwc] = results as [Record<string, HostTensor>, Record<string, HostTensor>];
  for (const name of ['y', 'dx', 'dw', 'db']) {
    const err = relError(nchwc[name]!.data as Float32Array, plain[name]!.data as Float32Array);
    assert.ok(err < 1e-5, `${name}: relative error ${err}`);
  }
});
