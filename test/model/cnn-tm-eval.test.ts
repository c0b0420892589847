import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { toOnnx } from '../../src/graph/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { buildEvalGraph } from '../../src/model/cnn-tm.js';
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
