import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, gradients, reduceSum, toOnnx } from '../../src/graph/index.js';
import { DROPOUT_MASK, DropoutMaskGenerator, dropout, dropoutMaskInputs } from '../../src/nn/index.js';
import { createSession } from '../../src/runtime/index.js';

test('mask generator: keep rate 1 - p within sampling error, kept values 1/(1-p), seeded and advancing', () => {
  for (const p of [0.1, 0.4, 0.75]) {
    const n = 1_000_001; // odd: the last element is written too
    const mask = new Float32Array(n).fill(Number.NaN);
    new DropoutMaskGenerator(7).fill(mask, p);
    let kept = 0;
    for (const v of mask) {
      if (v === 0) continue;
      assert.equal(v, Math.fround(1 / (1 - p)), `kept value ${v} for p ${p}`);
      kept++;
    }
    const rate = kept / n;
    const sigma = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(rate - (1 - p)) < 5 * sigma, `p ${p}: keep rate ${rate}, expected ${1 - p} +- ${5 * sigma}`);
  }
  const a = new Float32Array(4096);
  const b = new Float32Array(4096);
  const gen = new DropoutMaskGenerator(3);
  gen.fill(a, 0.5);
  new DropoutMaskGenerator(3).fill(b, 0.5);
  assert.deepEqual(a, b, 'same seed, same mask');
  gen.fill(b, 0.5);
  assert.notDeepEqual(a, b, 'the next mask of one generator differs');
  new DropoutMaskGenerator(4).fill(b, 0.5);
  assert.notDeepEqual(a, b, 'another seed, another mask');
  for (const bad of [0, 1, -0.1, Number.NaN]) {
    assert.throws(() => new DropoutMaskGenerator(1).fill(b, bad), /dropout ratio must be in \(0, 1\)/);
  }
  // Neighbouring elements (the two halves of one draw) are independent: P(both kept) = (1-p)^2.
  const big = new Float32Array(1_000_000);
  new DropoutMaskGenerator(11).fill(big, 0.5);
  let both = 0;
  for (let i = 0; i < big.length; i += 2) if (big[i] !== 0 && big[i + 1] !== 0) both++;
  const pairs = big.length / 2;
  assert.ok(Math.abs(both / pairs - 0.25) < 5 * Math.sqrt((0.25 * 0.75) / pairs), `pairs both kept: ${both / pairs}`);
});

test('train-mode dropout is x times a fed mask input; its gradient is dy times the mask', async () => {
  const g = new Graph('dropout');
  const x = g.input('x', [2, 3]);
  const y = dropout(x, 0.4, 'train');
  const [mask] = dropoutMaskInputs(g);
  assert.ok(mask);
  assert.ok(mask.name.startsWith(DROPOUT_MASK), mask.name);
  assert.deepEqual([mask.shape, mask.ratio], [[2, 3], 0.4]);
  const [dx] = gradients(reduceSum(y, [0, 1]), [x]);
  g.output('y', y);
  g.output('dx', dx!);
  const session = await createSession(toOnnx(g));
  try {
    const maskData = Float32Array.of(0, 2.5, 2.5, 0, 0, 2.5);
    const out = await session.run({
      x: { data: Float32Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] },
      [mask.name]: { data: maskData, shape: [2, 3] },
    });
    assert.deepEqual(Array.from(out.y?.data as Float32Array), [0, 5, 7.5, 0, 0, 15]);
    assert.deepEqual(Array.from(out.dx?.data as Float32Array), Array.from(maskData));
  } finally {
    await session.release();
  }
});
