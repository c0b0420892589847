import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Graph, toOnnx } from '../../src/graph/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { buildEvalGraph, normalizeInput } from '../../src/model/cnn-tm.js';
import { PAPER_CNN_TM } from '../../src/model/config.js';
import { importStateDict } from '../../src/model/weights.js';
import { createSession } from '../../src/runtime/index.js';
import { hasShared, relError, sharedDir } from '../helpers.js';

const skipShared = hasShared ? false : 'needs ../shared/golden';

test('paper-size eval logits match torch (cnn_tm_full_eval, 1e-4 relative)', { skip: skipShared }, async () => {
  const golden = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_full_eval.safetensors')).tensors;
  const state = importStateDict(golden, PAPER_CNN_TM, { prefix: 'param/' });
  const input = golden.get('input');
  const expected = golden.get('logits');
  assert.ok(input && expected);
  const session = await createSession(toOnnx(buildEvalGraph(PAPER_CNN_TM, state, 2)));
  try {
    const out = await session.run({ mel: { data: input.data, shape: input.shape } });
    const logits = out.logits?.data as Float32Array;
    assert.deepEqual(out.logits?.shape, [2, 6]);
    const error = relError(logits, expected.data as Float32Array);
    console.log(`full eval logits relative error ${error.toExponential(2)}`);
    assert.ok(error < 1e-4, `relative error ${error}`);
    const probabilities = out.probabilities?.data as Float32Array;
    for (let row = 0; row < 2; row++) {
      const sum = probabilities.subarray(row * 6, row * 6 + 6).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6);
    }
  } finally {
    await session.release();
  }
});

test("inputNorm 'band': each mel band to mean 0, variance v / (v + 1e-5); a constant band to exactly 0", async () => {
  const frames = 94;
  const bands = [
    Array.from({ length: frames }, () => -77.77), // the floor top_db clamps silence to: float32 rounding must not survive
    Array.from({ length: frames }, (_, t) => -40 + 20 * Math.sin(t / 3) + (t % 7)),
    Array.from({ length: frames }, (_, t) => (t === 50 ? -77.7 : -77.77)), // one frame above the floor
  ];
  const data = Float32Array.from(bands.flat());
  const g = new Graph('input_norm_test');
  g.output('y', normalizeInput(g.input('x', [1, 1, bands.length, frames]), 'band'));
  const session = await createSession(toOnnx(g), { threads: 1 });
  try {
    const y = (await session.run({ x: { data, shape: [1, 1, bands.length, frames] } })).y?.data as Float32Array;
    for (const [b] of bands.entries()) {
      const x = Array.from(data.subarray(b * frames, (b + 1) * frames)); // float64 reference of the float32 input
      const mean = x.reduce((s, v) => s + v, 0) / frames;
      const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / frames;
      const expected = x.map((v) => (v - mean) / Math.sqrt(variance + 1e-5));
      const got = y.subarray(b * frames, (b + 1) * frames);
      const worst = Math.max(...expected.map((e, t) => Math.abs(e - (got[t] as number))));
      assert.ok(worst < 1e-4, `band ${b}: largest difference from the float64 formula ${worst}`);
    }
    assert.deepEqual(
      [...y.subarray(0, frames)].filter((v) => v !== 0),
      [],
      'a constant band normalises to exactly 0',
    );
  } finally {
    await session.release();
  }
});
