/**
 * 95% intervals against scipy 1.10.1 (Wilson: `binomtest(c, n).proportion_ci(method='wilson')`) and statsmodels
 * (Agresti-Coull: `proportion_confint(c, n, method='agresti_coull')`); the UAR interval of three classes from
 * the formula in src/eval/intervals.ts evaluated in float64 Python.
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
  it('with one class is the Agresti-Coull interval (statsmodels), clipped to [0, 1]', () => {
    closeInterval(uarInterval([7], [20]), [0.179926361438228, 0.5684111859776177], '7 of 20');
    closeInterval(uarInterval([20], [20]), [0.810190439457511, 1], '20 of 20');
  });
  it('combines the classes as independent proportions; classes without support are skipped', () => {
    const expected = [0.2129159524244098, 0.4039623607644703]; // 8, 10 and 2 of 24 each
    closeInterval(uarInterval([8, 10, 2], [24, 24, 24]), expected, 'three classes');
    closeInterval(uarInterval([8, 0, 10, 2], [24, 0, 24, 24]), expected, 'with an absent class');
    assert.equal(uarInterval([0, 0], [0, 0]), null);
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
