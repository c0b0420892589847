/**
 * Augmentation on the mel image (src/train/augment.ts): speed perturbation and vocal tract length perturbation move
 * a tone's energy to the scaled frequency, speed also rescales time; VTLP in a recipe changes the batches, stays
 * deterministic, and leaves the batches of recipes without it as they were.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractUtteranceLogMels } from '../../src/data/index.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { DEFAULT_FRONT_END, LogMelFrontEnd, type Spectrogram } from '../../src/features/index.js';
import { HERTZ_TO_MEL } from '../../src/features/mel.js';
import { assetPath } from '../../src/io/paths.js';
import { type AugmentConfig, checkAugmentConfig, melAxisOf, rescaleLogMel } from '../../src/train/augment.js';
import { trainingSource } from '../../src/train/input-sets.js';
import { GENERALIZE_RECIPE, type Recipe } from '../../src/train/recipe.js';

const frontEnd = DEFAULT_FRONT_END;
const axis = melAxisOf(frontEnd);

/** The log-mel of a 1 s sine at `hz` (a test signal: where its energy lies is known exactly). */
function tone(hz: number): Spectrogram {
  const n = frontEnd.sampleRateHz;
  const wave = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / n));
  return new LogMelFrontEnd({ ...frontEnd, topDb: null }).logMel(wave);
}

/** The loudest band of frame `t`. */
function peakBand(logMel: Spectrogram, t: number): number {
  let best = 0;
  for (let m = 1; m < logMel.nMels; m++) {
    if ((logMel.data[m * logMel.frames + t] as number) > (logMel.data[best * logMel.frames + t] as number)) best = m;
  }
  return best;
}

/** The band whose centre is nearest `hz`. */
function bandOf(hz: number): number {
  const mel = HERTZ_TO_MEL[frontEnd.melScale].toMel(hz);
  return Math.round((mel - axis.first) / axis.step - 1);
}

test('rescaleLogMel: factors 1 are the identity; VTLP moves a tone to f w and keeps the frames; speed also divides the frames', () => {
  const logMel = tone(1000);
  const t = Math.floor(logMel.frames / 2);
  assert.equal(peakBand(logMel, t), bandOf(1000));
  assert.deepEqual(rescaleLogMel(logMel, { frequency: 1, time: 1 }, axis, frontEnd).data, logMel.data);

  const vtlp = rescaleLogMel(logMel, { frequency: 1.1, time: 1 }, axis, frontEnd);
  assert.equal(vtlp.frames, logMel.frames);
  assert.equal(peakBand(vtlp, t), bandOf(1100));
  assert.equal(peakBand(rescaleLogMel(logMel, { frequency: 0.9, time: 1 }, axis, frontEnd), t), bandOf(900));

  const speed = rescaleLogMel(logMel, { frequency: 1.1, time: 1.1 }, axis, frontEnd);
  assert.equal(speed.frames, Math.round(logMel.frames / 1.1));
  assert.equal(peakBand(speed, Math.floor(speed.frames / 2)), bandOf(1100));
});

test('checkAugmentConfig names an invalid VTLP range', () => {
  const bad: AugmentConfig = { ...GENERALIZE_RECIPE.augment, vtlp: { probability: 0.5, min: 1.1, max: 0.9 } };
  assert.throws(() => checkAugmentConfig(bad), { code: 'EARG', message: /vtlp factors must satisfy 0 < min <= max \(1.1, 0.9 given\)/ });
});

test('VTLP in a recipe: other batches, the same for the same (seed, epoch, batch); vtlp null is the recipe without it', async () => {
  const corpus = loadCorpus({ dataset: 'crema-d', path: assetPath('corpus', 'crema-d'), labels: 'six' });
  const extracted = await extractUtteranceLogMels(corpus.utterances.slice(0, 6), { maxS: 12, cacheDir: null });
  const fill = (recipe: Recipe): Float32Array => {
    const source = trainingSource(
      {
        logMels: extracted.logMels,
        labels: Int32Array.from(extracted.kept, (u) => corpus.labels.indexOf(u.label)),
        corpora: new Int32Array(extracted.kept.length),
      },
      { frames: 188, nClasses: 6, frontEnd, recipe, seed: 5 },
    );
    const x = new Float32Array(4 * 128 * 188);
    source.fill([0, 2, 3, 5], 1, 0, x, new Float32Array(4 * 6));
    return x;
  };
  const withVtlp = (vtlp: AugmentConfig['vtlp']): Recipe => ({ ...GENERALIZE_RECIPE, augment: { ...GENERALIZE_RECIPE.augment, vtlp } });
  const warped = fill(withVtlp({ probability: 1, min: 0.9, max: 1.1 }));
  assert.deepEqual(warped, fill(withVtlp({ probability: 1, min: 0.9, max: 1.1 })));
  // The same draws with a warp of 1 (identity): what differs is the warp itself.
  assert.notDeepEqual(warped, fill(withVtlp({ probability: 1, min: 1, max: 1 })));
  assert.deepEqual(fill(withVtlp(null)), fill(GENERALIZE_RECIPE));
});
