/**
 * src/audio/vad.ts: hand-derived levels, real speech (RAVDESS, its quietest actor, and the lowest-contrast URDU
 * clip) judged usable, and the synthetic negatives (digital silence, white hiss at -70 and -20 dBFS, a 0.2 s cut)
 * flagged; absurd samples are errors naming the source.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import {
  AudioAssessor,
  MAX_ABS_SAMPLE,
  VAD_DEFAULTS,
  assessAudio,
  checkSampleValues,
  frameLevelsDbfs,
  voiceActivity,
} from '../../src/audio/vad.js';
import { mulberry32 } from '../../src/data/prng.js';
import { SerError } from '../../src/errors.js';
import { hasShared, sharedDir } from '../helpers.js';

const RATE = 16000;
const ravdess = join(sharedDir, 'data', 'ravdess');
const skip = hasShared ? false : 'needs ../shared/data';

/** Uniform white noise with RMS level `dbfs` (uniform on [-a, a] has RMS a / sqrt(3)). */
function hiss(seconds: number, dbfs: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const a = Math.sqrt(3) * 10 ** (dbfs / 20);
  return Float32Array.from({ length: Math.round(seconds * RATE) }, () => (2 * random() - 1) * a);
}

async function speech(file: string): Promise<Float32Array> {
  return (await loadAudio(file, { sampleRateHz: RATE })).samples;
}

describe('frameLevelsDbfs', () => {
  it('a full-scale square wave is 0 dBFS, a full-scale sine -3.01, digital silence -200', () => {
    const square = Float32Array.from({ length: 640 }, (_, i) => (Math.floor(i / 8) % 2 ? 1 : -1));
    const sine = Float32Array.from({ length: 640 }, (_, i) => Math.sin((2 * Math.PI * 500 * i) / RATE)); // 500 Hz: whole periods per frame
    assert.deepEqual(Array.from(frameLevelsDbfs(square, 320)), [0, 0]);
    for (const level of frameLevelsDbfs(sine, 320)) assert.ok(Math.abs(level - 10 * Math.log10(0.5)) < 1e-4, `${level}`);
    assert.deepEqual(Array.from(frameLevelsDbfs(new Float32Array(320), 320)), [-200]);
  });

  it('keeps a trailing partial frame only when it is at least half full', () => {
    assert.equal(frameLevelsDbfs(new Float32Array(320 + 159), 320).length, 1);
    assert.equal(frameLevelsDbfs(new Float32Array(320 + 160), 320).length, 2);
    assert.equal(frameLevelsDbfs(new Float32Array(0), 320).length, 0);
  });
});

describe('voiceActivity', () => {
  it('marks the speech of a RAVDESS clip active and the digital silence appended to it not', { skip }, async () => {
    const clip = await speech(join(ravdess, 'Actor_01', '03-01-05-01-01-01-01.wav'));
    const padded = new Float32Array(clip.length + 2 * RATE);
    padded.set(clip);
    const withSilence = voiceActivity(padded, RATE);
    const alone = voiceActivity(clip, RATE);
    assert.equal(withSilence.frameS, VAD_DEFAULTS.frameS);
    const frames = Math.floor(clip.length / (RATE * VAD_DEFAULTS.frameS));
    // The appended 2 s (100 frames) are inactive; the active frames of the speech itself are the same ones.
    assert.deepEqual(Array.from(withSilence.active.subarray(frames + 1)), new Array(withSilence.active.length - frames - 1).fill(0));
    assert.deepEqual(Array.from(withSilence.active.subarray(0, frames)), Array.from(alone.active.subarray(0, frames)));
    assert.ok(alone.speechS >= 0.5 && alone.speechS < alone.durationS, `speech ${alone.speechS} s of ${alone.durationS} s`);
  });

  it('steady white noise has no active frame at any level (contrast of a dB or two)', () => {
    for (const dbfs of [-70, -40, -20, -6]) {
      const activity = voiceActivity(hiss(3, dbfs, 7), RATE);
      assert.ok(activity.contrastDb < 3, `contrast ${activity.contrastDb} dB at ${dbfs} dBFS`);
      assert.equal(activity.speechS, 0);
      assert.ok(Math.abs(activity.peakDbfs - dbfs) < 1.5, `peak ${activity.peakDbfs} for ${dbfs} dBFS hiss`);
    }
  });

  it('rejects a sample rate or frame that cannot be used', () => {
    assert.throws(
      () => voiceActivity(new Float32Array(10), 0),
      (e: unknown) => e instanceof SerError && e.code === 'EARG',
    );
    assert.throws(() => voiceActivity(new Float32Array(10), RATE, { frameS: 1e-6 }), /shorter than one sample/);
  });
});

describe('assessAudio', () => {
  it('every clip of the quietest RAVDESS actor (09, peaks near -55 dBFS) and of actor 01 is ok', { skip }, async () => {
    for (const actor of ['Actor_01', 'Actor_09']) {
      const dir = join(ravdess, actor);
      for (const name of readdirSync(dir)) {
        const verdict = assessAudio(await speech(join(dir, name)), RATE, name);
        assert.equal(verdict.kind, 'ok', `${actor}/${name}: ${verdict.kind === 'flagged' ? verdict.reason : ''}`);
      }
    }
  });

  it('the URDU clip with the least level contrast (TV speech over background) is ok', { skip }, async () => {
    const verdict = assessAudio(await speech(join(sharedDir, 'data', 'urdu', 'Happy', 'SM18_F1_H049.opus')), RATE, 'urdu');
    assert.equal(verdict.kind, 'ok');
    assert.ok(verdict.activity.contrastDb < 15, `contrast ${verdict.activity.contrastDb} dB (the measured minimum of URDU, 11.1)`);
  });

  it('speech under white noise at 10 dB SNR (of the loudest frame) is still ok', { skip }, async () => {
    const clip = await speech(join(ravdess, 'Actor_02', '03-01-03-01-01-01-02.wav'));
    const peak = voiceActivity(clip, RATE).peakDbfs;
    const noise = hiss(clip.length / RATE, peak - 10, 3);
    const noisy = clip.map((x, i) => x + (noise[i] as number));
    assert.equal(assessAudio(noisy, RATE, 'noisy').kind, 'ok');
  });

  it('three seconds of digital silence: no_speech, below the floor', () => {
    const verdict = assessAudio(new Float32Array(3 * RATE), RATE, 'silence.wav');
    assert.equal(verdict.kind, 'flagged');
    assert.equal(verdict.kind === 'flagged' && verdict.flag, 'no_speech');
    assert.match(verdict.kind === 'flagged' ? verdict.reason : '', /-inf dBFS, below the -70 dBFS speech floor/);
  });

  it('-70 dBFS and -20 dBFS hiss: no_speech, steady noise', () => {
    for (const dbfs of [-70, -20]) {
      const verdict = assessAudio(hiss(3, dbfs, 11), RATE, 'hiss.wav');
      assert.equal(verdict.kind === 'flagged' && verdict.flag, 'no_speech', `${dbfs} dBFS`);
      assert.match(verdict.kind === 'flagged' ? verdict.reason : '', /steady noise|speech floor/);
    }
  });

  it('0.2 s of real speech: too_short', { skip }, async () => {
    const clip = await speech(join(ravdess, 'Actor_01', '03-01-05-01-01-01-01.wav'));
    const verdict = assessAudio(clip.subarray(RATE, RATE + 0.2 * RATE), RATE, 'cut.wav');
    assert.equal(verdict.kind === 'flagged' && verdict.flag, 'too_short');
  });

  it('a huge finite sample (1e20) or a NaN is an EAUDIO error naming the source; int16-scaled floats are not', () => {
    const samples = hiss(1, -20, 5);
    samples[8000] = 1e20;
    const verdict = assessAudio(samples, RATE, 'huge.wav');
    assert.equal(verdict.kind, 'error');
    const error = verdict.kind === 'error' ? verdict.error : null;
    assert.equal(error?.code, 'EAUDIO');
    assert.match(error?.message ?? '', /huge\.wav: sample 8000 \(at 0\.500 s\) is 1\.00e\+20; 1 of 16000 samples are beyond ±65536/);
    samples[8000] = Number.NaN;
    assert.match(
      checkSampleValues(samples, RATE, 'nan.wav')?.message ?? '',
      /nan\.wav: sample 8000 .* is NaN; 1 of 16000 samples are NaN or infinite/,
    );
    samples[8000] = -MAX_ABS_SAMPLE;
    assert.equal(checkSampleValues(samples, RATE, 'edge.wav'), null);
    assert.match(checkSampleValues(new Float32Array(0), RATE, 'empty.wav')?.message ?? '', /empty\.wav: the file holds 0 samples/);
  });
});

describe('AudioAssessor (the rule on a recording in chunks)', () => {
  it("gives assessAudio's verdict, levels and messages for chunks of any size", { skip }, async () => {
    const clip = await speech(join(ravdess, 'Actor_09', readdirSync(join(ravdess, 'Actor_09')).sort()[0] as string));
    const withBad = clip.slice();
    withBad[5000] = Number.POSITIVE_INFINITY;
    withBad[7000] = 1e9;
    const cases = [clip, new Float32Array(RATE), hiss(2, -30, 3), clip.slice(0, 0.3 * RATE), withBad, new Float32Array(0)];
    for (const samples of cases) {
      const whole = assessAudio(samples, RATE, 'x.wav');
      for (const size of [1, 319, 320, 4801]) {
        const assessor = new AudioAssessor(RATE, 'x.wav');
        for (let at = 0; at < samples.length; at += size) assessor.push(samples.subarray(at, at + size));
        assert.deepEqual(assessor.finish(), whole, `chunks of ${size}`);
      }
    }
  });
});
