import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerError } from '../../src/errors.js';
import { checkRunConfig, labelPrediction, segmentStarts } from '../../src/infer/model-use.js';

test('segmentStarts: every hop while at least half a window is audio; the first window always', () => {
  assert.deepEqual(segmentStarts(100000, 48000, 48000), [0, 48000]); // a third window would hold 4000 samples of audio
  assert.deepEqual(segmentStarts(120000, 48000, 48000), [0, 48000, 96000]); // exactly half: kept
  assert.deepEqual(segmentStarts(10, 48000, 48000), [0]); // shorter than a window: one padded window
  assert.deepEqual(segmentStarts(96000, 48000, 24000), [0, 24000, 48000, 72000]);
  assert.throws(
    () => segmentStarts(100, 0, 10),
    (e: unknown) => e instanceof SerError && e.code === 'EARG',
  );
  assert.throws(
    () => segmentStarts(100, 10, 0.5),
    (e: unknown) => e instanceof SerError && e.code === 'EARG',
  );
});

test('labelPrediction picks the most probable class (the first of equals); checkRunConfig names what is missing', () => {
  assert.deepEqual(labelPrediction(Float32Array.of(0.25, 0.5, 0.25), ['a', 'b', 'c']), {
    label: 'b',
    probabilities: { a: 0.25, b: 0.5, c: 0.25 },
  });
  assert.equal(labelPrediction([0.5, 0.5], ['x', 'y']).label, 'x');
  assert.throws(
    () => checkRunConfig({ format: 'speech-emotion run', model: {}, labels: [] }, 'run/config.json'),
    (e: unknown) =>
      e instanceof SerError &&
      e.code === 'EFORMAT' &&
      /run\/config\.json: .*missing frontEnd, durationS, hyper, seed, data, split/.test(e.message),
  );
});
