import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerError } from '../../src/errors.js';
import { EarlyStopping } from '../../src/train/early-stopping.js';

/** Feeds a sequence of validation losses; returns the epoch at which training stops (or null) and the best epoch. */
function run(patience: number, losses: number[], minDelta = 0): { stopEpoch: number | null; bestEpoch: number; improved: number[] } {
  const stopper = new EarlyStopping(patience, minDelta);
  const improved: number[] = [];
  for (let i = 0; i < losses.length; i++) {
    const decision = stopper.update(i + 1, losses[i]!);
    if (decision.improved) improved.push(i + 1);
    if (decision.stop) return { stopEpoch: i + 1, bestEpoch: stopper.state().bestEpoch, improved };
  }
  return { stopEpoch: null, bestEpoch: stopper.state().bestEpoch, improved };
}

test('early stopping: table of validation-loss sequences', () => {
  const cases: Array<{
    patience: number;
    losses: number[];
    minDelta?: number;
    stopEpoch: number | null;
    bestEpoch: number;
    improved: number[];
  }> = [
    // Steady improvement never stops.
    { patience: 2, losses: [3, 2, 1, 0.5], stopEpoch: null, bestEpoch: 4, improved: [1, 2, 3, 4] },
    // Best at epoch 2, then 2 epochs without improvement with patience 2: stop at epoch 4.
    { patience: 2, losses: [3, 1, 2, 2.5, 0.1], stopEpoch: 4, bestEpoch: 2, improved: [1, 2] },
    // An equal loss is not an improvement.
    { patience: 1, losses: [1, 1], stopEpoch: 2, bestEpoch: 1, improved: [1] },
    // The counter resets on an improvement: 1, (2, 1.5 no), 0.5 yes, (0.6, 0.7, 0.8 no) -> stop at 7 with patience 3.
    { patience: 3, losses: [1, 2, 1.5, 0.5, 0.6, 0.7, 0.8], stopEpoch: 7, bestEpoch: 4, improved: [1, 4] },
    // minDelta: 0.95 is not better than 1 by more than 0.1.
    { patience: 2, losses: [1, 0.95, 0.92], minDelta: 0.1, stopEpoch: 3, bestEpoch: 1, improved: [1] },
    // NaN never improves.
    { patience: 2, losses: [1, Number.NaN, Number.NaN], stopEpoch: 3, bestEpoch: 1, improved: [1] },
  ];
  for (const c of cases) {
    assert.deepEqual(
      run(c.patience, c.losses, c.minDelta),
      { stopEpoch: c.stopEpoch, bestEpoch: c.bestEpoch, improved: c.improved },
      JSON.stringify(c),
    );
  }
});

test('early stopping: state round-trips, so a resumed run stops at the same epoch', () => {
  const losses = [1, 0.8, 0.9, 0.85, 0.95, 0.7];
  const whole = run(3, losses);
  const first = new EarlyStopping(3);
  first.update(1, losses[0]!);
  first.update(2, losses[1]!);
  first.update(3, losses[2]!);
  const resumed = new EarlyStopping(3);
  resumed.loadState(JSON.parse(JSON.stringify(first.state())));
  let stopEpoch: number | null = null;
  for (let epoch = 4; epoch <= losses.length && stopEpoch === null; epoch++) {
    if (resumed.update(epoch, losses[epoch - 1]!).stop) stopEpoch = epoch;
  }
  assert.equal(stopEpoch, whole.stopEpoch);
  assert.equal(stopEpoch, 5);
  assert.equal(resumed.state().bestEpoch, 2);
});

test('early stopping: patience below 1 is an EARG error quoting the value', () => {
  assert.throws(
    () => new EarlyStopping(0),
    (error: unknown) => error instanceof SerError && error.code === 'EARG' && /\(0 given\)/.test(error.message),
  );
});
