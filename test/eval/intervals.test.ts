/**
 * 95% intervals: Wilson against scipy 1.10.1 (`binomtest(c, n).proportion_ci(method='wilson')`); the UAR interval
 * against its formula in src/eval/intervals.ts evaluated in float64 Python.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, fromJson, toJson } from '../../src/eval/index.js';
import { uarInterval, wilsonInterval } from '../../src/eval/intervals.js';

const TOL = 1e-12;
function closeInterval(actual: readonly number[] | null, expected: readonly number[], what: string): void {
  assert.ok(actual !== null, `${what}: null`);
  for (const k of [0, 1]) {
    assert.ok(Math.abs(actual[k]! - expected[k]!) <= TOL, `${what}[${k}]: got ${actual[k]}, expected ${expected[k]}`);
  }
}

describe('wilsonInterval', () => {
  it('equals scipy, keeps a width at 0 and at n of n', () => {
    closeInterval(wilsonInterval(161, 264), [0.5498350929714181, 0.6667109199400033], '161 of 264');
    closeInterval(wilsonInterval(0, 10), [0, 0.27753279986288926], '0 of 10');
    closeInterval(wilsonInterval(10, 10), [0.7224672001371109, 1], '10 of 10');
  });
});

describe('uarInterval', () => {
  // Expected values: the formula of src/eval/intervals.ts evaluated in float64 Python (z = 1.959963984540054).
  it('is centred on the UAR with the per-class Agresti-Coull variance, clipped to [0, 1]', () => {
    // one class, 7 of 20: r~ = (7 + z²/2) / (20 + z²) = 0.37416..., half = z sqrt(r~(1 - r~) / (20 + z²)) = 0.19424...
    closeInterval(uarInterval([7], [20]), [0.1557575877303051, 0.5442424122696948], '7 of 20');
    closeInterval(uarInterval([20], [20]), [0.8907530184839209, 1], '20 of 20');
  });
  it('combines the classes as independent proportions; classes without support are skipped', () => {
    const expected = [0.18225457360774755, 0.37330098194780803]; // 8, 10 and 2 of 24 each: UAR 0.27778
    closeInterval(uarInterval([8, 10, 2], [24, 24, 24]), expected, 'three classes');
    closeInterval(uarInterval([8, 0, 10, 2], [24, 0, 24, 24]), expected, 'with an absent class');
    assert.equal(uarInterval([0, 0], [0, 0]), null);
  });
  it('always holds the UAR, also for small classes all right (where the Agresti-Coull centre would leave it out)', () => {
    closeInterval(uarInterval([2, 2], [2, 2]), [0.7306185772267025, 1], 'two classes, 2 of 2 each');
    for (const [correct, support] of [
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
      [
        [3, 0],
        [3, 3],
      ],
      [
        [1, 5, 9],
        [1, 5, 9],
      ],
    ] as const) {
      const [low, high] = uarInterval(correct, support)!;
      const uar = correct.reduce((sum: number, c, i) => sum + c / support[i]!, 0) / correct.length;
      assert.ok(low <= uar && uar <= high, `${correct} of ${support}: [${low}, ${high}] must hold ${uar}`);
    }
  });
  it('narrows as the test set grows', () => {
    const [smallLow, smallHigh] = uarInterval([5, 5], [10, 10])!;
    const [largeLow, largeHigh] = uarInterval([50, 50], [100, 100])!;
    assert.ok(largeHigh - largeLow < smallHigh - smallLow);
  });
});

describe('reports carry the intervals', () => {
  // 3 of 4 right: class 0 two of two, class 1 one of two.
  const report = evaluate([0, 0, 1, 1], [0, 0, 1, 0], ['x', 'y']);
  it('evaluate: Wilson for accuracy, the per-class combination for UAR', () => {
    assert.deepEqual(report.accuracyInterval, wilsonInterval(3, 4));
    assert.deepEqual(report.uarInterval, uarInterval([2, 1], [2, 2]));
    assert.ok(report.accuracyInterval[0] < report.accuracy && report.accuracy < report.accuracyInterval[1]);
  });
  it('JSON has accuracy_ci95 and uar_ci95; a report written before them gets them from its confusion matrix', () => {
    const json = JSON.parse(JSON.stringify(toJson(report))) as Record<string, unknown>;
    assert.deepEqual(json.accuracy_ci95, report.accuracyInterval);
    assert.deepEqual(json.uar_ci95, report.uarInterval);
    const { accuracy_ci95: _a, uar_ci95: _u, ...older } = json;
    assert.deepEqual(fromJson(older).uarInterval, report.uarInterval);
    assert.throws(
      () => fromJson({ ...json, confusion: [[0]] }, 'metrics.json'),
      /metrics.json: not an evaluation report: confusion has no samples/,
    );
  });
});
