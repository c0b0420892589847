/**
 * The generalisation recipe's pieces: learning-rate schedule, balancing weights, whole-utterance windows, augmented
 * batches (deterministic per (seed, epoch, batch)), a mixture of two real corpora with a held-out corpus.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractUtteranceLogMels } from '../../src/data/index.js';
import { loadCorpora } from '../../src/data/mixture.js';
import { makeSplit } from '../../src/data/splits.js';
import { DEFAULT_FRONT_END, SILENCE_DB, cropOffsets, speechSpan, windowLogMel } from '../../src/features/index.js';
import { assetPath } from '../../src/io/paths.js';
import { trainingSource } from '../../src/train/input-sets.js';
import { learningRateAt } from '../../src/train/loop.js';
import { GENERALIZE_RECIPE, balanceWeights } from '../../src/train/recipe.js';

test('learningRateAt: linear warm-up, then cosine to 0 at the last step', () => {
  const hyper = { lr: 1e-3, warmupEpochs: 1, lrDecay: 'cosine' as const };
  assert.ok(Math.abs(learningRateAt(hyper, 5, 10, 100) - 0.5e-3 * ((1 + Math.cos((Math.PI * 4) / 100)) / 2)) < 1e-12);
  assert.equal(learningRateAt({ lr: 1e-3 }, 37, 10, 100), 1e-3);
  assert.ok(learningRateAt(hyper, 100, 10, 100) < 1e-6);
  assert.ok(Math.abs(learningRateAt({ lr: 2e-3, lrDecay: 'cosine' }, 51, 10, 100) - 1e-3) < 1e-12);
});

test('balanceWeights corpus-class: every corpus weighs the same, every class within it, mean 1', () => {
  const labels = [0, 0, 0, 1, 0, 1, 2, 2];
  const corpora = [0, 0, 0, 0, 1, 1, 1, 1];
  const w = balanceWeights('corpus-class', labels, corpora);
  const sum = (f: (i: number) => boolean) => labels.reduce((s, _, i) => s + (f(i) ? (w[i] as number) : 0), 0);
  assert.ok(Math.abs(sum(() => true) - labels.length) < 1e-5);
  assert.ok(Math.abs(sum((i) => corpora[i] === 0) - sum((i) => corpora[i] === 1)) < 1e-5);
  assert.ok(Math.abs(sum((i) => corpora[i] === 0 && labels[i] === 0) - sum((i) => corpora[i] === 0 && labels[i] === 1)) < 1e-5);
  assert.deepEqual(Array.from(balanceWeights('none', labels, corpora)), new Array(8).fill(1));
});

test('speech span, repeated and silence-padded windows, crop offsets (hand-made log-mel)', () => {
  // 2 mels x 10 frames: silence (-100 dB) except frames 3..5 at 0 dB.
  const data = new Float32Array(20).fill(SILENCE_DB);
  for (const m of [0, 1]) for (const t of [3, 4, 5]) data[m * 10 + t] = t - 3;
  const logMel = { data, nMels: 2, frames: 10 };
  assert.deepEqual(speechSpan(logMel, 40), { start: 3, end: 6 });
  assert.deepEqual(speechSpan(logMel, null), { start: 0, end: 10 });
  const span = { start: 3, end: 6 };
  assert.deepEqual(Array.from(windowLogMel(logMel, span, 5, 1, { fill: 'repeat', topDb: null }).subarray(0, 5)), [1, 2, 0, 1, 2]);
  assert.deepEqual(Array.from(windowLogMel(logMel, span, 5, 0, { fill: 'silence', topDb: 80 }).subarray(0, 5)), [0, 1, 2, -78, -78]);
  assert.deepEqual(cropOffsets(20, 8, { fill: 'repeat', crops: 3 }), [0, 6, 12]);
  assert.deepEqual(cropOffsets(5, 8, { fill: 'repeat', crops: 3 }), [0]);
});

test('a mixture of two real corpora: tags, namespaced ids, six classes; a held-out corpus is the whole test part; augmented batches repeat exactly', async () => {
  const corpus = loadCorpora([
    { dataset: 'csv', path: assetPath('corpus', 'manifest.csv') },
    { dataset: 'crema-d', path: assetPath('corpus', 'crema-d') },
  ]);
  assert.deepEqual(corpus.sources, ['csv', 'crema-d']);
  assert.deepEqual(corpus.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
  assert.ok(corpus.utterances.every((u) => u.id.startsWith(`${u.source}/`) && u.speaker.startsWith(`${u.source}/`)));
  assert.equal(corpus.utterances.filter((u) => u.source === 'crema-d').length, 12);
  // RAVDESS calm and surprised have no class among the six: left out, with a reason.
  assert.ok(corpus.ignored.some((i) => /class 'calm' has no counterpart/.test(i.reason)));

  // A mixture file may name any kind: an unknown one is a clear error, not a crash.
  assert.throws(
    () =>
      loadCorpora([
        { dataset: 'tess' as 'csv', path: assetPath('corpus') },
        { dataset: 'csv', path: assetPath('corpus', 'manifest.csv') },
      ]),
    {
      code: 'EARG',
      message: /unknown corpus kind 'tess' \(expected one of crema-d, ravdess/,
    },
  );

  const split = makeSplit('corpus', corpus.utterances, { seed: 0, labels: corpus.labels, heldOut: { corpus: 'crema-d' } });
  assert.equal(split.protocol, 'leave-one-corpus-out');
  assert.equal(split.parts.test.length, 12);
  assert.ok(split.parts.test.every((id) => id.startsWith('crema-d/')));
  assert.ok(split.parts.validation.length > 0 && split.parts.train.every((id) => id.startsWith('csv/')));

  const few = corpus.utterances.filter((u) => u.source === 'crema-d');
  const extracted = await extractUtteranceLogMels(few, { maxS: 12, cacheDir: null });
  const source = trainingSource(
    {
      logMels: extracted.logMels,
      labels: Int32Array.from(extracted.kept, (u) => corpus.labels.indexOf(u.label)),
      corpora: new Int32Array(extracted.kept.length),
    },
    { frames: 188, nClasses: 6, frontEnd: DEFAULT_FRONT_END, recipe: GENERALIZE_RECIPE, seed: 3 },
  );
  assert.equal(source.clean.x.length, 12 * 128 * 188);
  const batch = () => ({ x: new Float32Array(4 * 128 * 188), t: new Float32Array(4 * 6) });
  const [a, b, c] = [batch(), batch(), batch()];
  source.fill([0, 5, 7, 11], 2, 1, a.x, a.t);
  source.fill([0, 5, 7, 11], 2, 1, b.x, b.t);
  source.fill([0, 5, 7, 11], 2, 2, c.x, c.t);
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.t, b.t);
  assert.notDeepEqual(a.x, c.x);
  assert.ok(a.x.every(Number.isFinite));
  // Label smoothing and mixup keep each target row a distribution (sampling balances, so no loss weights).
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(a.t.subarray(i * 6, i * 6 + 6).reduce((s, v) => s + v, 0) - 1) < 1e-5);

  // Corpus targets (corpus-adversarial training): the same clips and class part, then the corpus distribution,
  // mixed by mixup with the same partners, not smoothed.
  const corpusOf = Int32Array.from(extracted.kept, (_, i) => i % 2);
  const withCorpora = trainingSource(
    {
      logMels: extracted.logMels,
      labels: Int32Array.from(extracted.kept, (u) => corpus.labels.indexOf(u.label)),
      corpora: corpusOf,
    },
    { frames: 188, nClasses: 6, frontEnd: DEFAULT_FRONT_END, recipe: GENERALIZE_RECIPE, seed: 3, corpora: 2 },
  );
  assert.equal(withCorpora.corpora, 2);
  const wide = { x: new Float32Array(4 * 128 * 188), t: new Float32Array(4 * 8) };
  let mixed = 0;
  for (const batchIndex of [1, 2, 3, 4, 5, 6]) {
    const plain = batch();
    source.fill([0, 5, 7, 11], 2, batchIndex, plain.x, plain.t);
    withCorpora.fill([0, 5, 7, 11], 2, batchIndex, wide.x, wide.t);
    assert.deepEqual(wide.x, plain.x);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(wide.t.subarray(i * 8, i * 8 + 6), plain.t.subarray(i * 6, i * 6 + 6));
      const [c0, c1] = [wide.t[i * 8 + 6] as number, wide.t[i * 8 + 7] as number];
      assert.ok(Math.abs(c0 + c1 - 1) < 1e-6, `corpus part of row ${i} is a distribution (${c0}, ${c1})`);
      if (c0 !== 0 && c1 !== 0) mixed++;
      else assert.equal(c1, corpusOf[[0, 5, 7, 11][i] as number], "unmixed: the clip's own corpus, not smoothed");
    }
  }
  assert.ok(mixed > 0, 'mixup mixed some corpus parts in 6 batches');
  assert.throws(
    () =>
      trainingSource(
        { logMels: extracted.logMels, labels: new Int32Array(12), corpora: new Int32Array(12).fill(2) },
        { frames: 188, nClasses: 6, frontEnd: DEFAULT_FRONT_END, recipe: GENERALIZE_RECIPE, seed: 3, corpora: 2 },
      ),
    /corpus targets need a corpus index in 0\.\.1 for each of the 12 utterances/,
  );
});
