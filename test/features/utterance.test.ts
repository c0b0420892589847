/**
 * The speech span's noise-floor rule (src/features/utterance.ts speechSpan with trimFloorDb): hand-made log-mels
 * with a known floor, and real speech (the RAVDESS and CREMA-D clips of assets/corpus) clean and under seeded pink
 * noise. The rest of the span and window definitions is tested with the recipe (test/train/recipe.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { LogMelFrontEnd } from '../../src/features/front-end.js';
import { SILENCE_DB, checkInputPolicy, noiseFloor, speechSpan } from '../../src/features/utterance.js';
import { assetPath } from '../../src/io/paths.js';
import { withPinkNoise } from '../helpers.js';

/** 2 mels x 10 frames at `background` dB, frames 4..6 at 0 dB. */
function logMelWith(background: number) {
  const data = new Float32Array(20).fill(background);
  for (const m of [0, 1]) for (const t of [4, 5, 6]) data[m * 10 + t] = 0;
  return { data, nMels: 2, frames: 10 };
}

test('noise floor: the energy of nearest rank floor(T / 10) of the sorted frames', () => {
  assert.equal(noiseFloor(Float64Array.from([5, 1, 4, 2, 3, 9, 8, 7, 6, 10])), 2);
  assert.equal(noiseFloor(Float64Array.from([3, 1, 2])), 1);
  assert.equal(noiseFloor(Float64Array.from({ length: 25 }, (_, i) => 25 - i)), 3);
});

test('a floor 30 dB under the speech: kept by loudest - 40 dB alone, cut with trimFloorDb 10; digital silence: the same span', () => {
  const noisy = logMelWith(-30);
  assert.deepEqual(speechSpan(noisy, { trimDb: 40 }), { start: 0, end: 10 });
  assert.deepEqual(speechSpan(noisy, { trimDb: 40, trimFloorDb: 10 }), { start: 4, end: 7 });
  assert.deepEqual(speechSpan(noisy, { trimDb: 40, trimFloorDb: 35 }), { start: 4, end: 7 }, 'floor + 35 dB is above the loudest: loudest');
  assert.deepEqual(speechSpan(noisy, { trimDb: 40, trimFloorDb: null }), { start: 0, end: 10 });
  const clean = logMelWith(SILENCE_DB);
  assert.deepEqual(speechSpan(clean, { trimDb: 40, trimFloorDb: 10 }), speechSpan(clean, { trimDb: 40 }));
  const flat = logMelWith(0);
  assert.deepEqual(speechSpan(flat, { trimDb: 40, trimFloorDb: 10 }), { start: 0, end: 10 }, 'no contrast: everything is kept');
});

test('real speech: unchanged on RAVDESS digital silence, cut under pink noise where loudest - 40 dB keeps every frame', async () => {
  const unclamped = new LogMelFrontEnd({ topDb: null });
  const trim = { trimDb: 40 };
  const floorTrim = { trimDb: 40, trimFloorDb: 10 };
  for (const file of ['ravdess/Actor_01/03-01-01-01-01-01-01.opus', 'ravdess/Actor_03/03-01-04-02-01-02-03.opus']) {
    const samples = (await loadAudio(assetPath('corpus', file), { sampleRateHz: 16000 })).samples;
    const clean = unclamped.logMel(samples);
    const cleanSpan = speechSpan(clean, trim);
    assert.deepEqual(speechSpan(clean, floorTrim), cleanSpan, file);
    const noisy = unclamped.logMel(withPinkNoise(samples, 20));
    assert.deepEqual(speechSpan(noisy, trim), { start: 0, end: noisy.frames }, `${file}: the noise is within 40 dB of the speech`);
    const span = speechSpan(noisy, floorTrim);
    // The cut keeps the loud speech: within the clean span, at most a quarter second (25 frames) inside each edge.
    assert.ok(
      span.start >= cleanSpan.start && span.start - cleanSpan.start <= 25,
      `${file}: start ${span.start}, clean ${cleanSpan.start}`,
    );
    assert.ok(span.end <= cleanSpan.end && cleanSpan.end - span.end <= 25, `${file}: end ${span.end}, clean ${cleanSpan.end}`);
  }
});

test('input policy: trimFloorDb positive, and only with trimDb', () => {
  const policy = { maxS: 12, trimDb: 40, fill: 'repeat', crops: 3 } as const;
  assert.equal(checkInputPolicy({ ...policy, trimFloorDb: 10 }).trimFloorDb, 10);
  assert.throws(() => checkInputPolicy({ ...policy, trimFloorDb: -1 }), /trimFloorDb must be a positive number of dB or null \(-1 given\)/);
  assert.throws(() => checkInputPolicy({ ...policy, trimDb: null, trimFloorDb: 10 }), /trimFloorDb needs trimDb/);
});
