/** Host-side class scores: hand-derived softmax, cross-entropy, arg-max ties and window averages. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CROSS_ENTROPY_EPS,
  argmax,
  averageWindowProbabilities,
  logitCrossEntropy,
  probabilityCrossEntropy,
  softmaxInto,
  softmaxRows,
} from '../../src/eval/probabilities.js';

test('softmax of [0, ln 3] is [1/4, 3/4]; shifting the logits changes nothing; float32 rows round the float64 ones', () => {
  assert.deepEqual(
    [...softmaxInto([0, Math.log(3)], new Float64Array(2))].map((p) => Number(p.toFixed(15))),
    [0.25, 0.75],
  );
  const shifted = softmaxInto([1000, 1000 + Math.log(3)], new Float64Array(2));
  // 1000 + ln 3 carries ln 3 to within an ulp of 1000 (1.1e-13): 1e-12 tolerance.
  assert.ok(Math.abs(shifted[0]! - 0.25) < 1e-12 && Math.abs(shifted[1]! - 0.75) < 1e-12, 'no overflow at 1000');
  const rows = softmaxRows(Float32Array.from([0, 0, 0, Math.log(3)]), 2);
  assert.deepEqual([...rows], [0.5, 0.5, 0.25, 0.75]);
});

test('cross-entropy: log-sum-exp of [0, ln 3] against class 0 is ln 4; a probability is floored at 1e-15', () => {
  assert.ok(Math.abs(logitCrossEntropy([0, Math.log(3)], 0) - Math.log(4)) < 1e-15);
  assert.ok(Math.abs(logitCrossEntropy([0, Math.log(3)], 1) - Math.log(4 / 3)) < 1e-15);
  assert.equal(probabilityCrossEntropy(0.5), Math.log(2));
  assert.equal(probabilityCrossEntropy(0), -Math.log(CROSS_ENTROPY_EPS));
});

test('argmax takes the lowest index among equals', () => {
  assert.equal(argmax([0.2, 0.4, 0.4]), 1);
  assert.equal(argmax([3]), 0);
  assert.equal(argmax(Float32Array.from([-1, -2, -0.5])), 2);
});

test('window averages: utterance 0 has windows [1, 0] and [0, 1], utterance 1 has [0.2, 0.8]', () => {
  const rows = Float32Array.from([1, 0, 0, 1, 0.2, 0.8]);
  assert.deepEqual([...averageWindowProbabilities(rows, [2, 1], 2)], [0.5, 0.5, Math.fround(0.2), Math.fround(0.8)]);
});
