import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, toOnnx } from '../../src/graph/index.js';
import { conv2dSame, dropout, multiHeadSelfAttention } from '../../src/nn/index.js';
import { createSession } from '../../src/runtime/index.js';

test('self-attention on a hand-computed case: 1 head, identity projections', async () => {
  // d = 2, T = 2, q = k = v = x. Row t: softmax(x_t . x_s / sqrt(2)) over s, times x.
  const x = [1, 0, 0, 2];
  const g = new Graph('mha');
  const input = g.input('x', [1, 2, 2]);
  const eye3 = g.constant(Float32Array.of(1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1), [6, 2]);
  const eye = g.constant(Float32Array.of(1, 0, 0, 1), [2, 2]);
  const zeros = (n: number) => g.constant(new Float32Array(n), [n]);
  const y = multiHeadSelfAttention(
    input,
    { inProjWeight: eye3, inProjBias: zeros(6), outProjWeight: eye, outProjBias: zeros(2) },
    {
      heads: 1,
      dropout: 0.5,
      mode: 'eval',
    },
  );
  g.output('y', y);
  const session = await createSession(toOnnx(g));
  try {
    const out = Array.from((await session.run({ x: { data: Float32Array.from(x), shape: [1, 2, 2] } })).y?.data as Float32Array);
    // scores: [[1, 0], [0, 4]] / sqrt(2)
    const row = (a: number, b: number) => {
      const [ea, eb] = [Math.exp(a / Math.SQRT2), Math.exp(b / Math.SQRT2)];
      return [ea / (ea + eb), eb / (ea + eb)] as const;
    };
    const [p00, p01] = row(1, 0);
    const [p10, p11] = row(0, 4);
    const expected = [p00 * 1 + p01 * 0, p00 * 0 + p01 * 2, p10 * 1 + p11 * 0, p10 * 0 + p11 * 2];
    for (const [i, v] of out.entries()) assert.ok(Math.abs(v - (expected[i] as number)) < 1e-6, `${out} vs ${expected}`);
  } finally {
    await session.release();
  }
});

test('conv2dSame keeps H and W for odd kernels; dropout is the identity in eval mode and for p = 0', () => {
  const g = new Graph('shapes');
  const x = g.input('x', [2, 1, 9, 7]);
  assert.deepEqual(conv2dSame(x, g.input('w', [4, 1, 5, 5]), g.input('b', [4])).shape, [2, 4, 9, 7]);
  assert.equal(dropout(x, 0.4, 'eval'), x);
  assert.equal(dropout(x, 0, 'train'), x);
  assert.notEqual(dropout(x, 0.4, 'train'), x);
});
