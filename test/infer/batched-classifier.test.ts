/**
 * BatchedClassifier (dynamic batching) with the shipped model on the embedded corpus: concurrent callers share ORT
 * calls of at most maxBatch inputs and each gets what predictFiles gives its file (tolerance 1e-5: a clip's
 * neighbours in the call differ); an idle batcher waits maxWaitMs for company; bad options fail naming the value.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { assetPath } from '../../src/io/paths.js';
import { BatchedClassifier } from '../../src/infer/batched-classifier.js';
import { type Prediction, RunModel, predictFiles } from '../../src/infer/inference.js';

const actor = assetPath('corpus', 'ravdess', 'Actor_01');
const files = readdirSync(actor)
  .filter((f) => f.endsWith('.opus'))
  .sort()
  .slice(0, 10)
  .map((f) => join(actor, f));

let model: RunModel;
before(async () => {
  model = await RunModel.load(undefined, { threads: 1 });
});
after(() => model.release());

test('concurrent callers share calls of at most maxBatch inputs and get predictFiles results', async () => {
  const calls: number[] = [];
  const classifier = new BatchedClassifier(model, { maxBatch: 4, maxWaitMs: 50, onBatch: (clips) => calls.push(clips) });
  const samples = await Promise.all(files.map(async (f) => (await loadAudio(f)).samples));
  const got = await Promise.all(samples.map((s) => classifier.classify(s)));
  const windows = samples.map((s) => model.inputs.of(s).count).reduce((a, b) => a + b, 0);
  assert.equal(
    calls.reduce((a, b) => a + b, 0),
    windows,
    'every model input ran once',
  );
  assert.ok(
    calls.every((n) => n <= 4),
    `calls of ${calls.join(', ')} inputs`,
  );
  assert.ok(calls.length < files.length, `${files.length} callers took ${calls.length} calls`);
  const expected = (await predictFiles(undefined, files, { threads: 1 })) as Prediction[];
  got.forEach((g, i) => {
    assert.equal(g.label, expected[i]!.label, files[i]);
    for (const [label, p] of Object.entries(expected[i]!.probabilities))
      assert.ok(Math.abs(g.probabilities[label]! - p) <= 1e-5, `${files[i]} ${label}`);
  });
});

test('an idle batcher runs a lone request after maxWaitMs; bad options are refused with their value', async () => {
  const classifier = new BatchedClassifier(model, { maxWaitMs: 200 });
  const samples = (await loadAudio(files[0]!)).samples;
  const started = performance.now();
  await classifier.classify(samples);
  assert.ok(performance.now() - started >= 190, 'the lone request waited for company');
  assert.throws(() => new BatchedClassifier(model, { maxBatch: 0 }), /maxBatch must be a positive integer \(0 given\)/);
  assert.throws(() => new BatchedClassifier(model, { maxWaitMs: -1 }), /maxWaitMs must be a number of milliseconds >= 0 \(-1 given\)/);
});
