/**
 * predictSegments reads WAV and AIFF files a chunk at a time (bounded memory): on a real multi-clip recording (eight
 * RAVDESS clips with pauses, ../shared) the timeline equals the whole-file path's, number for number, with overlapping
 * windows, at the model's rate and resampled from a stereo 22.05 kHz file; unusable files get the same flag or error.
 * predictFiles with decoding workers gives what it gives without them, to the bit, in order, over more than one
 * chunk of files, unusable files keeping their place, error and warnings. The shipped model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAudio, resample } from '../../src/audio/index.js';
import { type FailedPrediction, type FlaggedPrediction, predictFiles, predictSegments } from '../../src/infer/inference.js';
import { assetPath } from '../../src/io/paths.js';
import { simpleWav } from '../audio/audio-helpers.js';
import { hasShared, sharedDir } from '../helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-inference-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const RATE = 16000;

const floatWav = (samples: Float32Array, rateHz = RATE) =>
  simpleWav({ tag: 3, bits: 32, sampleRateHz: rateHz }, new Uint8Array(samples.buffer));

/** Stereo 16-bit PCM: left the signal, right it halved. */
function stereoPcm16Wav(samples: Float32Array, rateHz: number): Uint8Array {
  const data = new Int16Array(samples.length * 2);
  samples.forEach((x, i) => {
    data[2 * i] = Math.round(Math.max(-1, Math.min(1, x)) * 32767);
    data[2 * i + 1] = Math.round(Math.max(-1, Math.min(1, x / 2)) * 32767);
  });
  return simpleWav({ channels: 2, bits: 16, sampleRateHz: rateHz }, new Uint8Array(data.buffer));
}

test('predictSegments: the bounded (chunked) path gives the whole-file timeline exactly, on eight RAVDESS clips with pauses', {
  skip: !hasShared && 'needs ../shared (RAVDESS)',
}, async () => {
  const dir = join(sharedDir, 'data', 'ravdess', 'Actor_05');
  const clips = await Promise.all(
    readdirSync(dir)
      .sort()
      .filter((_, i) => i % 7 === 0)
      .slice(0, 8)
      .map(async (name) => (await loadAudio(join(dir, name))).samples),
  );
  const pause = new Float32Array(1.3 * RATE);
  const parts = clips.flatMap((clip) => [clip, pause]);
  const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  assert.ok(joined.length > 35 * RATE, `${joined.length / RATE} s`);
  const files = {
    mono16k: join(scratch, 'recording-16k.wav'),
    stereo22k: join(scratch, 'recording-22k-stereo.wav'),
    silence: join(scratch, 'silence.wav'),
    nan: join(scratch, 'nan.wav'),
  };
  writeFileSync(files.mono16k, floatWav(joined));
  writeFileSync(files.stereo22k, stereoPcm16Wav(resample(joined, RATE, 22050), 22050));
  writeFileSync(files.silence, floatWav(new Float32Array(12 * RATE)));
  const broken = joined.slice();
  broken[25 * RATE] = Number.NaN;
  writeFileSync(files.nan, floatWav(broken));

  const paths = Object.values(files);
  const bounded = await predictSegments(undefined, paths, { hopS: 1.5, threads: 1 });
  const whole = await predictSegments(undefined, paths, { hopS: 1.5, threads: 1, wholeFile: true });
  assert.deepEqual(bounded, whole);
  const [mono, stereo, silence, nan] = bounded;
  for (const r of [mono, stereo]) {
    assert.ok(r && 'segments' in r, JSON.stringify(r));
    assert.ok(
      r.segments.length >= 15 && r.flaggedSegments.length >= 1,
      `${r.segments.length} windows, ${r.flaggedSegments.length} flagged`,
    );
  }
  assert.deepEqual(silence && 'flag' in silence ? silence.flag : silence, 'no_speech');
  assert.match(nan && 'error' in nan ? nan.error : '', /nan\.wav: sample 400000 \(at 25\.000 s\) is NaN; 1 of \d+ samples are NaN/);
});

test('predictFiles: decoding workers give the results of the calling thread to the bit, in order, bad files in place', async () => {
  const crema = assetPath('corpus', 'crema-d');
  const ravdess = assetPath('corpus', 'ravdess', 'Actor_01');
  const good = [
    ...readdirSync(crema)
      .filter((name) => name.endsWith('.opus'))
      .map((name) => join(crema, name)),
    ...readdirSync(ravdess)
      .sort()
      .slice(0, 6)
      .map((name) => join(ravdess, name)),
  ];
  assert.equal(good.length, 18);
  const truncatedBytes = readFileSync(good[0] as string);
  const bad = {
    garbage: join(scratch, 'garbage.wav'),
    missing: join(scratch, 'missing.opus'),
    silence: join(scratch, 'silence-3s.wav'),
    truncated: join(scratch, 'truncated.opus'),
  };
  writeFileSync(bad.garbage, 'not audio at all, just text in a .wav file');
  writeFileSync(bad.silence, floatWav(new Float32Array(3 * RATE)));
  writeFileSync(bad.truncated, truncatedBytes.subarray(0, Math.floor(truncatedBytes.length * 0.7)));
  // More than one chunk of 64 files, the unusable ones in both chunks (the second is decoded while the model runs).
  const files = [...good, ...good, ...good, ...good].slice(0, 70);
  files.splice(3, 0, bad.garbage);
  files.splice(10, 0, bad.truncated);
  files.splice(40, 0, bad.silence);
  files.splice(66, 0, bad.missing);
  files.push(bad.garbage);

  const sequential = await predictFiles(undefined, files, { threads: 1, jobs: 0 });
  const progress: string[] = [];
  const pooled = await predictFiles(undefined, files, {
    threads: 1,
    jobs: 3,
    onProgress: (done, total) => progress.push(`${done}/${total}`),
  });
  assert.deepEqual(progress, ['64/75', '75/75'], 'a progress call after each chunk');
  // deepEqual (strict): every probability the same number (Object.is), every key and order the same.
  assert.deepEqual(pooled, sequential);
  assert.deepEqual(
    pooled.map((r) => r.file),
    files,
  );
  const at = (i: number) => pooled[i] as FailedPrediction & FlaggedPrediction & { warnings?: string[]; label?: string };
  for (const i of [3, files.length - 1]) {
    assert.equal(at(i).code, 'EDECODE', JSON.stringify(at(i)));
    assert.match(at(i).error, /garbage\.wav: unknown audio format/);
  }
  assert.equal(at(66).code, 'EIO', JSON.stringify(at(66)));
  assert.match(at(66).error, /missing\.opus/);
  assert.equal(at(40).flag, 'no_speech', JSON.stringify(at(40)));
  assert.ok(at(10).label && at(10).warnings?.[0]?.includes('truncated.opus'), JSON.stringify(at(10)));
  const labelled = pooled.filter((r) => 'label' in r).length;
  assert.equal(labelled, files.length - 4);
});
