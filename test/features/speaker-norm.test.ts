/**
 * Speaker-level input normalisation (src/features/speaker-norm.ts) on the shipped CREMA-D samples (two speakers,
 * six recordings each): the statistics standardise a speaker's clamped speech frames band by band; utterances of
 * one speaker share them, an unknown speaker is its own group; the recipe applies them to the training and
 * evaluation windows (src/train/input-sets.ts), and inference takes a speaker's statistics from their recordings
 * as training does, refusing such a model without them (src/infer/model-use.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { extractUtteranceLogMels } from '../../src/data/index.js';
import { DEFAULT_FRONT_END, type Spectrogram, clampTopDb } from '../../src/features/index.js';
import { type BandNormalizer, bandNormalizer, groupNormalizers, normalizeBands } from '../../src/features/speaker-norm.js';
import { speechSpan } from '../../src/features/utterance.js';
import { RecordingInputs } from '../../src/infer/model-use.js';
import { assetPath } from '../../src/io/paths.js';
import { evaluationSet, trainingSource } from '../../src/train/input-sets.js';
import { GENERALIZE_RECIPE, type Recipe } from '../../src/train/recipe.js';

const frontEnd = DEFAULT_FRONT_END;
const corpus = loadCorpus({ dataset: 'crema-d', path: assetPath('corpus', 'crema-d'), labels: 'six' });
const extracted = await extractUtteranceLogMels(corpus.utterances, { maxS: 12, cacheDir: null });
const logMels = extracted.logMels;
const speakers = extracted.kept.map((u) => u.speaker);
const spans = logMels.map((logMel) => speechSpan(logMel, GENERALIZE_RECIPE.input.trimDb));
const speakerNormRecipe: Recipe = { ...GENERALIZE_RECIPE, inputNorm: 'none', speakerNorm: true };

/** The speech frames of `logMel`, clamped at the span's maximum - topDb, as [nMels, frames of the span]. */
function clampedSpeech(logMel: Spectrogram, span: { start: number; end: number }): Float32Array {
  const length = span.end - span.start;
  const out = new Float32Array(logMel.nMels * length);
  for (let m = 0; m < logMel.nMels; m++)
    out.set(logMel.data.subarray(m * logMel.frames + span.start, m * logMel.frames + span.end), m * length);
  return clampTopDb(out, frontEnd.topDb as number);
}

test('the real samples hold two speakers of six recordings', () => {
  assert.equal(logMels.length, 12);
  assert.deepEqual([...new Set(speakers)].sort(), ['1001', '1002']);
});

test('bandNormalizer: after it, every band of the speaker`s speech frames has mean 0 and variance 1', () => {
  const mine = speakers.flatMap((speaker, i) => (speaker === '1001' ? [i] : []));
  const normalizer = bandNormalizer(
    mine.map((i) => logMels[i] as Spectrogram),
    mine.map((i) => spans[i] as { start: number; end: number }),
    frontEnd.topDb,
  );
  const sum = new Float64Array(frontEnd.nMels);
  const squares = new Float64Array(frontEnd.nMels);
  let count = 0;
  for (const i of mine) {
    const span = spans[i] as { start: number; end: number };
    const frames = span.end - span.start;
    const normalised = normalizeBands(clampedSpeech(logMels[i] as Spectrogram, span), normalizer, frames);
    for (let m = 0; m < frontEnd.nMels; m++) {
      for (let t = 0; t < frames; t++) {
        const v = normalised[m * frames + t] as number;
        sum[m]! += v;
        squares[m]! += v * v;
      }
    }
    count += frames;
  }
  for (let m = 0; m < frontEnd.nMels; m++) {
    const mean = (sum[m] as number) / count;
    assert.ok(Math.abs(mean) < 1e-3, `band ${m}: mean ${mean}`);
    assert.ok(Math.abs((squares[m] as number) / count - mean * mean - 1) < 1e-3, `band ${m}: variance`);
  }
});

test('groupNormalizers: one normalizer per speaker, shared by its recordings; each recording of unknown speaker is its own group', () => {
  const normalizers = groupNormalizers(logMels, spans, speakers, frontEnd.topDb);
  const first = speakers.indexOf('1001');
  const second = speakers.indexOf('1002');
  speakers.forEach((speaker, i) => {
    assert.equal(normalizers[i], normalizers[speaker === '1001' ? first : second]);
  });
  assert.notDeepEqual(normalizers[first]?.mean, normalizers[second]?.mean);

  const unknown = speakers.map((speaker, i) => (i === first || i === second ? '' : speaker));
  const alone = groupNormalizers(logMels, spans, unknown, frontEnd.topDb)[first];
  assert.deepEqual(
    alone,
    bandNormalizer([logMels[first] as Spectrogram], [spans[first] as { start: number; end: number }], frontEnd.topDb),
  );
  assert.notDeepEqual(alone?.mean, normalizers[first]?.mean);
});

test('a recipe with speakerNorm: evaluation and clean training windows are the windows without it, normalised by speaker', () => {
  const part = {
    logMels,
    labels: Int32Array.from(extracted.kept, (u) => corpus.labels.indexOf(u.label)),
    corpora: new Int32Array(12),
    speakers,
  };
  const inputs = { frames: 188, frontEnd, nClasses: 6, seed: 3 };
  const normalizers = groupNormalizers(logMels, spans, speakers, frontEnd.topDb);
  const size = frontEnd.nMels * 188;

  const plain = evaluationSet(part, { ...inputs, recipe: { ...speakerNormRecipe, speakerNorm: false } });
  const normalised = evaluationSet(part, { ...inputs, recipe: speakerNormRecipe });
  assert.deepEqual(normalised.windows, plain.windows);
  let at = 0;
  plain.windows?.forEach((count, i) => {
    const expected = normalizeBands(plain.x.slice(at * size, (at + count) * size), normalizers[i] as BandNormalizer, 188);
    assert.deepEqual(normalised.x.subarray(at * size, (at + count) * size), expected, `utterance ${i}`);
    at += count;
  });

  const cleanPlain = trainingSource(part, { ...inputs, recipe: { ...speakerNormRecipe, speakerNorm: false } }).clean.x;
  const cleanNormalised = trainingSource(part, { ...inputs, recipe: speakerNormRecipe }).clean.x;
  for (let i = 0; i < 12; i++) {
    const expected = normalizeBands(cleanPlain.slice(i * size, (i + 1) * size), normalizers[i] as BandNormalizer, 188);
    assert.deepEqual(cleanNormalised.subarray(i * size, (i + 1) * size), expected, `utterance ${i}`);
  }
});

test("inference: a speaker's statistics from their recordings are training's; without them the windows are refused", async () => {
  const recipe = { ...speakerNormRecipe, input: { ...speakerNormRecipe.input, maxS: 12 } };
  const config = { frontEnd, durationS: 3, model: { nMels: 128, frames: 188 } as never, recipe };
  const ofSpeaker = extracted.kept.map((u, i) => [u, i] as const).filter(([u]) => u.speaker === '1001');
  const samples = await Promise.all(ofSpeaker.map(([u]) => loadAudio(u.path, { sampleRateHz: 16000, maxS: 12 })));
  const enrolled = new RecordingInputs(config).speakerStatistics(samples.map((a) => a.samples));
  const trained = groupNormalizers(logMels, spans, speakers, frontEnd.topDb)[ofSpeaker[0]![1]] as BandNormalizer;
  assert.deepEqual(enrolled, trained);
  const recording = samples[0]!.samples;
  assert.throws(() => new RecordingInputs(config).of(recording), { code: 'EARG', message: /speaker-level input normalisation.*--enrol/s });
  const plain = new RecordingInputs({ ...config, recipe: { ...recipe, speakerNorm: false } }).of(recording);
  const normalised = new RecordingInputs(config, enrolled).of(recording);
  assert.deepEqual(normalised.windows, normalizeBands(plain.windows.slice(), enrolled, 188));
  assert.throws(() => new RecordingInputs({ ...config, recipe: GENERALIZE_RECIPE }, enrolled), {
    code: 'EARG',
    message: /without speaker normalisation/,
  });
  const bands64 = { mean: enrolled.mean.subarray(0, 64), scale: enrolled.scale.subarray(0, 64) };
  assert.throws(() => new RecordingInputs(config, bands64), { code: 'ESHAPE', message: /64 bands for a model of 128 mels/ });
});
