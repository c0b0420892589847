/**
 * Augmentation on the mel image (src/train/augment.ts): speed perturbation and vocal tract length perturbation move
 * a tone's energy to the scaled frequency, speed also rescales time; VTLP in a recipe changes the batches, stays
 * deterministic, and leaves the batches of recipes without it as they were; so does the random channel, which
 * attenuates bands by a Butterworth band-pass's gain, and the untrimmed windows (the whole recording, pauses kept).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractUtteranceLogMels } from '../../src/data/index.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { DEFAULT_FRONT_END, LogMelFrontEnd, type Spectrogram, speechSpan, windowLogMel } from '../../src/features/index.js';
import { HERTZ_TO_MEL } from '../../src/features/mel.js';
import { assetPath } from '../../src/io/paths.js';
import { type AugmentConfig, applyChannel, channelGainsDb, checkAugmentConfig, melAxisOf, rescaleLogMel } from '../../src/train/augment.js';
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

/** Six CREMA-D sample clips' log-mels, extracted once. */
let clips: Promise<{ logMels: Spectrogram[]; labels: Int32Array }> | null = null;

/** Four of them through the batch maker with `recipe` (seed 5, epoch 1, batch 0). */
async function batchOf(recipe: Recipe): Promise<Float32Array> {
  clips ??= (async () => {
    const corpus = loadCorpus({ dataset: 'crema-d', path: assetPath('corpus', 'crema-d'), labels: 'six' });
    const extracted = await extractUtteranceLogMels(corpus.utterances.slice(0, 6), { maxS: 12, cacheDir: null });
    return { logMels: extracted.logMels, labels: Int32Array.from(extracted.kept, (u) => corpus.labels.indexOf(u.label)) };
  })();
  const { logMels, labels } = await clips;
  const source = trainingSource(
    { logMels, labels, corpora: new Int32Array(labels.length) },
    { frames: 188, nClasses: 6, frontEnd, recipe, seed: 5 },
  );
  const x = new Float32Array(4 * 128 * 188);
  source.fill([0, 2, 3, 5], 1, 0, x, new Float32Array(4 * 6));
  return x;
}

const withAugment = (augment: Partial<AugmentConfig>): Recipe => ({
  ...GENERALIZE_RECIPE,
  augment: { ...GENERALIZE_RECIPE.augment, ...augment },
});

test('VTLP in a recipe: other batches, the same for the same (seed, epoch, batch); vtlp null is the recipe without it', async () => {
  const warped = await batchOf(withAugment({ vtlp: { probability: 1, min: 0.9, max: 1.1 } }));
  assert.deepEqual(warped, await batchOf(withAugment({ vtlp: { probability: 1, min: 0.9, max: 1.1 } })));
  // The same draws with a warp of 1 (identity): what differs is the warp itself.
  assert.notDeepEqual(warped, await batchOf(withAugment({ vtlp: { probability: 1, min: 1, max: 1 } })));
  assert.deepEqual(await batchOf(withAugment({ vtlp: null })), await batchOf(GENERALIZE_RECIPE));
});

test('channelGainsDb: a Butterworth band-pass, 0 dB in the pass band, -3 dB at each cut-off, order n falls 6n dB per octave', () => {
  const channel = { lowPassHz: 3400, highPassHz: 300, order: 8 };
  const [pass, atLow, atHigh, octaveUp, octaveDown] = channelGainsDb([1000, 3400, 300, 6800, 150], channel);
  assert.ok(Math.abs(pass as number) < 1e-3, `pass band ${pass} dB`);
  assert.ok(Math.abs((atLow as number) + 3.0103) < 1e-3, `at the low-pass cut-off ${atLow} dB`);
  assert.ok(Math.abs((atHigh as number) + 3.0103) < 1e-3, `at the high-pass cut-off ${atHigh} dB`);
  // An octave past a cut-off: 10 log10(1 + 2^16) = 48.2 dB down.
  assert.ok(Math.abs((octaveUp as number) + 48.165) < 1e-2, `an octave above ${octaveUp} dB`);
  assert.ok(Math.abs((octaveDown as number) + 48.165) < 1e-2, `an octave below ${octaveDown} dB`);
  // High-pass cut-off 0: none (a 20 Hz band passes).
  assert.ok(Math.abs(channelGainsDb([20], { lowPassHz: 3400, highPassHz: 0, order: 8 })[0] as number) < 1e-3);
});

test('channelGainsDb with order Infinity: a brick wall, 0 dB inside the pass band, -100 dB (AMIN) outside', () => {
  const gains = channelGainsDb([100, 300, 1000, 3400, 3500, 7000], { lowPassHz: 3400, highPassHz: 300, order: Infinity });
  assert.deepEqual([...gains], [-100, 0, 0, 0, -100, -100]);
});

test('applyChannel: a 5 kHz tone through a 3.4 kHz telephone band loses its peak band by the gain there; a 1 kHz tone keeps it', () => {
  const centresHz = axis.centres.map((mel) => HERTZ_TO_MEL[frontEnd.melScale].toHz(mel));
  const gains = channelGainsDb(centresHz, { lowPassHz: 3400, highPassHz: 300, order: 8 });
  for (const [hz, lost] of [
    [1000, 0],
    [5000, -(gains[bandOf(5000)] as number)],
  ] as const) {
    const logMel = tone(hz);
    const t = Math.floor(logMel.frames / 2);
    const before = logMel.data[bandOf(hz) * logMel.frames + t] as number;
    const filtered = Float32Array.from(logMel.data);
    applyChannel(filtered, gains, logMel.frames);
    const after = filtered[bandOf(hz) * logMel.frames + t] as number;
    assert.ok(Math.abs(before - after - lost) < 1e-3, `${hz} Hz: ${before - after} dB lost, expected ${lost}`);
  }
  assert.ok(-(gains[bandOf(5000)] as number) > 20);
  assert.throws(() => applyChannel(new Float32Array(10), gains, 3), { code: 'ESHAPE' });
});

test('the channel in a recipe: other batches, the same for the same draws; channel null is the recipe without it; bad ranges named', async () => {
  const channel = { probability: 1, lowPassMinHz: 3000, lowPassMaxHz: 4000, highPassMaxHz: 300, order: 8 };
  const filtered = await batchOf(withAugment({ channel }));
  assert.deepEqual(filtered, await batchOf(withAugment({ channel })));
  assert.notDeepEqual(filtered, await batchOf(GENERALIZE_RECIPE));
  assert.deepEqual(await batchOf(withAugment({ channel: null })), await batchOf(GENERALIZE_RECIPE));
  // A brick wall at 3-4 kHz leaves the top bands at the clamp floor (top_db below the window's peak) in every clip
  // (SpecAugment off: its masks would set some bands to the window's mean).
  const walled = await batchOf(withAugment({ channel: { ...channel, brickWall: true }, specAugment: null }));
  const size = 128 * 188;
  for (let clip = 0; clip < 4; clip++) {
    const x = walled.subarray(clip * size, (clip + 1) * size);
    const top = x.subarray(120 * 188);
    assert.ok(
      top.every((v) => v === top[0]),
      `clip ${clip}: the top bands are not all at the floor`,
    );
  }
  const bad: AugmentConfig = { ...GENERALIZE_RECIPE.augment, channel: { ...channel, lowPassMinHz: 5000, highPassMaxHz: 6000, order: 0 } };
  assert.throws(() => checkAugmentConfig(bad), {
    code: 'EARG',
    message:
      /low-pass cut-offs must satisfy 0 < lowPassMinHz <= lowPassMaxHz \(5000, 4000 given\).*highPassMaxHz must be in \[0, lowPassMinHz\) \(6000 given\).*order must be an integer >= 1 \(0 given\)/,
  });
});

test('untrimmed windows: the whole recording instead of the speech span; untrimmed null is the recipe without it', async () => {
  const plain: Partial<AugmentConfig> = { randomCrop: false, speed: null, noise: null, specAugment: null, mixup: null };
  const whole = await batchOf(withAugment({ ...plain, untrimmed: { probability: 1 } }));
  const trimmed = await batchOf(withAugment({ ...plain, untrimmed: null }));
  const { logMels } = await (clips as NonNullable<typeof clips>);
  const size = 128 * 188;
  for (const [clip, u] of [0, 2, 3, 5].entries()) {
    const logMel = logMels[u] as Spectrogram;
    const span = speechSpan(logMel, GENERALIZE_RECIPE.input.trimDb);
    assert.ok(span.start > 0, `clip ${u}: its speech span starts at frame ${span.start}, the test needs a trimmed start`);
    const options = { fill: 'repeat', topDb: frontEnd.topDb } as const;
    assert.deepEqual(
      whole.subarray(clip * size, (clip + 1) * size),
      windowLogMel(logMel, { start: 0, end: logMel.frames }, 188, 0, options),
    );
    assert.deepEqual(trimmed.subarray(clip * size, (clip + 1) * size), windowLogMel(logMel, span, 188, 0, options));
  }
  assert.deepEqual(
    await batchOf(withAugment({ untrimmed: { probability: 0.5 } })),
    await batchOf(withAugment({ untrimmed: { probability: 0.5 } })),
  );
  assert.deepEqual(await batchOf(withAugment({ untrimmed: null })), await batchOf(GENERALIZE_RECIPE));
  assert.throws(
    () => checkAugmentConfig({ ...GENERALIZE_RECIPE.augment, untrimmed: { probability: 2 } }),
    /untrimmed probability must be in \[0, 1\] \(2 given\)/,
  );
});
