import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DropoutMaskPrefetcher } from '../../src/model/dropout-prefetch.js';
import { DropoutMaskGenerator } from '../../src/nn/index.js';

const INPUTS = [
  { name: 'dropout_mask/a', shape: [3, 5], ratio: 0.4 },
  { name: 'dropout_mask/b', shape: [7], ratio: 0.1 },
];

/** The masks DropoutMaskGenerator makes on the main thread for `steps` steps from `seed`. */
function expected(seed: number, steps: number): Float32Array[][] {
  const generator = new DropoutMaskGenerator(seed);
  return Array.from({ length: steps }, () =>
    INPUTS.map((input) => {
      const mask = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
      generator.fill(mask, input.ratio);
      return mask;
    }),
  );
}

test('prefetched masks are the generator sequence, step after step, and restart on reseed', async () => {
  const prefetcher = new DropoutMaskPrefetcher(INPUTS, 11);
  try {
    const first = expected(11, 3);
    for (let step = 0; step < 3; step++) {
      const masks = (await prefetcher.next()).map(({ data }) => Float32Array.from(data));
      assert.deepEqual(masks, first[step], `step ${step}`);
    }
    // A reseed while the next set is being filled: that set is thrown away.
    prefetcher.reseed(12);
    const second = expected(12, 2);
    for (let step = 0; step < 2; step++)
      assert.deepEqual(
        (await prefetcher.next()).map(({ data }) => Float32Array.from(data)),
        second[step],
      );
  } finally {
    await prefetcher.release();
  }
});

test('masks made on the main thread when the worker is late are the same sequence', async () => {
  // graceMs 0 and back-to-back calls: every fill in flight is late, so next() makes the masks itself and
  // discards the worker's; the sequence must not change.
  const prefetcher = new DropoutMaskPrefetcher(INPUTS, 21, { graceMs: 0 });
  try {
    const want = expected(21, 6);
    for (let step = 0; step < 6; step++)
      assert.deepEqual(
        (await prefetcher.next()).map(({ data }) => Float32Array.from(data)),
        want[step],
        `step ${step}`,
      );
  } finally {
    await prefetcher.release();
  }
});

test('the worker thread loads its module and makes the masks (no fallback warning)', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  const prefetcher = new DropoutMaskPrefetcher(INPUTS, 31, { graceMs: 10_000 });
  try {
    const want = expected(31, 3);
    for (let step = 0; step < 3; step++) {
      assert.deepEqual(
        (await prefetcher.next()).map(({ data }) => Float32Array.from(data)),
        want[step],
        `step ${step}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50)); // the worker fills the next set meanwhile
    }
  } finally {
    await prefetcher.release();
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});

test('a graph without dropout needs no worker', async () => {
  const prefetcher = new DropoutMaskPrefetcher([], 1);
  assert.deepEqual(await prefetcher.next(), []);
  await prefetcher.release();
});
