/**
 * Temperature scaling (src/eval/calibration.ts) against scipy 1.10.1: 12 recordings of 1-3 windows, 4 classes, logits
 * drawn with numpy (default_rng(7), normal sd 3, the true class + 4 in two windows of three: an overconfident model).
 * The reference fit is `minimize_scalar(ce, bounds=(0.25, 8), method='bounded', xatol=1e-10)` of the same mean
 * cross-entropy (each window softmax(logits / T), the mean per recording, -ln of the true class's probability).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitTemperature, temperedProbabilities } from '../../src/eval/calibration.js';
import { SerError } from '../../src/errors.js';

const COUNTS = [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 1, 2];
const TRUTH = [0, 1, 2, 3, 0, 1, 2, 3, 3, 2, 1, 0];
const LOGITS = Float32Array.from([
  0.004, 0.896, -0.822, -2.672, -1.364, 1.025, 0.18, 4.021, -1.477, 2.139, 1.47, 1.071, 0.316, -2.791, 3.912, 2.086, -4.033, -1.373, -5.704,
  -3.869, -5.525, -0.705, -3.802, 4.814, 0.47, -0.561, -7.55, 2.384, 3.854, 0.34, -4.59, -1.433, -2.936, 1.573, 3.183, -2.423, -0.098,
  2.653, -1.751, -0.335, 0.331, 0.191, 0.325, 0.228, 4.076, -4.641, 2.578, 4.358, -1.924, 6.001, 2.287, 0.402, 0.224, 1.73, -0.566, 2.049,
  -0.2, 2.002, 8.316, -2.027, 0.609, 2.61, 0.382, -3.562, 2.262, -0.589, 2.696, 3.436, -3.971, -2.384, 1.941, -5.977,
]);

describe('temperedProbabilities', () => {
  it("averages each window's softmax(logits / T) over a recording (scipy softmax, T = 2)", () => {
    const p = temperedProbabilities(LOGITS, COUNTS, 4, 2);
    // Recording 1 (windows 1 and 2) at T = 2, numpy: mean of scipy.special.softmax(row / 2).
    const expected = [0.05679597533202735, 0.280511470768678, 0.19607347894952226, 0.4666190749497724];
    for (const [c, v] of expected.entries()) assert.ok(Math.abs(p[4 + c]! - v) < 1e-7, `class ${c}: ${p[4 + c]} vs ${v}`);
    for (let r = 0; r < COUNTS.length; r++) {
      const sum = p.subarray(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-12, `recording ${r} sums to ${sum}`);
    }
  });

  it('refuses logits that do not fit the window counts', () => {
    assert.throws(
      () => temperedProbabilities(LOGITS.subarray(4), COUNTS, 4, 1),
      (e: unknown) => e instanceof SerError && e.code === 'ESHAPE',
    );
  });
});

describe('fitTemperature', () => {
  it("finds scipy's optimum to the grid's 1% and its cross-entropy to 1e-4", () => {
    const fit = fitTemperature(LOGITS, COUNTS, TRUTH, 4);
    const scipyT = 2.8077487580823703;
    const scipyCrossEntropy = 1.1318183013256984;
    assert.ok(Math.abs(Math.log(fit.temperature / scipyT)) <= Math.log(1.01), `T ${fit.temperature} vs scipy ${scipyT}`);
    assert.ok(fit.crossEntropy >= scipyCrossEntropy - 1e-9 && fit.crossEntropy - scipyCrossEntropy < 1e-4, `${fit.crossEntropy}`);
    assert.ok(Math.abs(fit.crossEntropyUntempered - 1.38851800348249) < 1e-6, `at T = 1: ${fit.crossEntropyUntempered}`);
  });

  it('keeps T = 1 for logits that are already calibrated at 1 (the fit of the tempered logits is 1 / T of the first)', () => {
    const first = fitTemperature(LOGITS, COUNTS, TRUTH, 4).temperature;
    const tempered = LOGITS.map((v) => v / first);
    assert.equal(fitTemperature(tempered, COUNTS, TRUTH, 4).temperature, 1);
  });

  it('refuses no recordings and truth that does not fit the counts', () => {
    assert.throws(
      () => fitTemperature(new Float32Array(0), [], [], 4),
      (e: unknown) => e instanceof SerError && e.code === 'EDATA',
    );
    assert.throws(
      () => fitTemperature(LOGITS, COUNTS, TRUTH.slice(1), 4),
      (e: unknown) => e instanceof SerError && e.code === 'ESHAPE',
    );
  });
});
