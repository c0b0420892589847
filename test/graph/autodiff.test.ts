/** Autodiff mechanics: fan-in sums, detach, unused inputs, dtype errors, custom rules via options.rules. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, type Tensor, add, detach, gradients, mul, neg, reduceSum, toOnnx, unbroadcast } from '../../src/graph/index.js';
import { createSession } from '../../src/runtime/index.js';

async function evaluate(g: Graph, feeds: Record<string, number[]>): Promise<Record<string, number[]>> {
  const session = await createSession(toOnnx(g), { threads: 1 });
  const shapes = Object.fromEntries(g.inputs.map((t) => [t.name, t.shape]));
  const out = await session.run(
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: Float32Array.from(v), shape: shapes[k] ?? [] }])),
  );
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

test('fan-in is summed, detach blocks the path, an unused input gets zeros', async () => {
  const g = new Graph();
  const x = g.input('x', [3]);
  const u = g.input('u', [2]);
  // loss = sum(x*x + 3x + detach(x)*x): d/dx = 2x + 3 + x (the detached factor counts as a constant)
  const loss = reduceSum(add(add(mul(x, x), mul(x, 3)), mul(detach(x), x)), [0]);
  const [dx, du] = gradients(loss, [x, u]);
  g.output('dx', dx!);
  g.output('du', du!);
  const out = await evaluate(g, { x: [1, -2, 0.5], u: [7, 8] });
  assert.deepEqual(out.dx, [6, -3, 4.5]);
  assert.deepEqual(out.du, [0, 0]);
});

test('unbroadcast sums over broadcast axes back to the input shape', async () => {
  const g = new Graph();
  const y = g.input('y', [2, 3]);
  g.output('rows', unbroadcast(y, [1, 3]));
  g.output('all', unbroadcast(y, []));
  g.output('lead', unbroadcast(y, [3]));
  const out = await evaluate(g, { y: [1, 2, 3, 4, 5, 6] });
  assert.deepEqual(out.rows, [5, 7, 9]);
  assert.deepEqual(out.all, [21]);
  assert.deepEqual(out.lead, [5, 7, 9]);
});

test('gradient errors: integer wrt, non-float loss; options.rules override the table', async () => {
  const g = new Graph();
  const x = g.input('x', [2]);
  const i = new Graph('other').input('i', [2], 'int64');
  const j = g.constant(BigInt64Array.of(1n, 2n), [2], 'int64');
  assert.throws(
    () => gradients(reduceSum(x, [0]), [j]),
    (e: Error & { code?: string }) => e.code === 'EGRAD' && /int64 tensor 'const_\d+'/.test(e.message),
  );
  assert.throws(
    () => gradients(j, [x]),
    (e: Error & { code?: string }) => e.code === 'EGRAD' && /loss 'const_\d+' is int64/.test(e.message),
  );
  assert.throws(
    () => gradients(reduceSum(x, [0]), [i as Tensor]),
    (e: Error & { code?: string }) => e.code === 'EGRAD' && /another graph/.test(e.message),
  );
  // a (deliberately wrong) Neg rule passed in options wins over the table's
  const [dx] = gradients(reduceSum(neg(x), [0]), [x], { rules: { Neg: (_node, [dy]) => [mul(dy as Tensor, 10)] } });
  g.output('dx', dx!);
  const out = await evaluate(g, { x: [1, 2] });
  assert.deepEqual(out.dx, [10, 10]);
});
