/**
 * Dropout: ONNX Dropout in training mode with a `seed` attribute set by toOnnx({seed}). ORT advances the
 * node's generator on every run of a session, so masks differ from step to step; a new session from the same
 * (graph, seed) replays the same sequence, which is how the trainer makes epochs reproducible
 * (newEpoch(epoch) -> toOnnx(graph, {seed: mix(seed, epoch)}) -> new session).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, dropout, gradients, mul, reduceSum, toOnnx } from '../../src/graph/index.js';
import { createSession } from '../../src/runtime/index.js';

const N = 4096;
const P = 0.4;

function buildGraph(): Graph {
  const g = new Graph('dropout');
  const x = g.input('x', [N]);
  const r = g.input('r', [N]);
  const { output } = dropout(x, P);
  const [dx] = gradients(reduceSum(mul(output, r), [0]), [x]);
  g.output('y', output);
  g.output('dx', dx!);
  return g;
}

async function masks(seed: number, runs: number): Promise<{ y: Float32Array; dx: Float32Array }[]> {
  const session = await createSession(toOnnx(buildGraph(), { seed }), { threads: 1 });
  const x = Float32Array.from({ length: N }, (_, i) => 1 + (i % 7));
  const r = Float32Array.from({ length: N }, (_, i) => (i % 5) - 2);
  const out = [];
  for (let k = 0; k < runs; k++) {
    const res = await session.run({ x: { data: x, shape: [N] }, r: { data: r, shape: [N] } });
    out.push({ y: res.y?.data as Float32Array, dx: res.dx?.data as Float32Array });
  }
  await session.release();
  return out;
}

const same = (a: Float32Array, b: Float32Array): boolean => a.every((v, i) => v === b[i]);

test('dropout: keep rate, scaling and gradient match the mask', async () => {
  const [first] = await masks(11, 1);
  const { y, dx } = first!;
  let kept = 0;
  for (let i = 0; i < N; i++) {
    const x = 1 + (i % 7);
    const r = (i % 5) - 2;
    const keep = y[i] !== 0;
    if (keep) kept++;
    // kept elements are x / (1 - p); the gradient of sum(y r) is r / (1 - p) where kept, 0 elsewhere
    assert.ok(Math.abs((y[i] as number) - (keep ? x / (1 - P) : 0)) < 1e-5);
    assert.ok(Math.abs((dx[i] as number) - (keep ? r / (1 - P) : 0)) < 1e-5);
  }
  // binomial(4096, 0.6): sd = 31; allow 5 sd
  assert.ok(Math.abs(kept - N * (1 - P)) < 160, `kept ${kept} of ${N}`);
});

test('dropout: masks change every run, replay with the same seed, differ with another seed', async () => {
  const a = await masks(11, 3);
  const b = await masks(11, 3);
  const c = await masks(12, 1);
  assert.ok(!same(a[0]!.y, a[1]!.y) && !same(a[1]!.y, a[2]!.y), 'masks must differ between runs of one session');
  for (let k = 0; k < 3; k++) assert.ok(same(a[k]!.y, b[k]!.y), `run ${k} must replay with the same seed`);
  assert.ok(!same(a[0]!.y, c[0]!.y), 'another seed gives another mask');
});
