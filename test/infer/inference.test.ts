/**
 * predictSegments reads WAV and AIFF files a chunk at a time (bounded memory): on a real multi-clip recording (eight
 * RAVDESS clips with pauses, ../shared) the timeline equals the whole-file path's, number for number, with overlapping
 * windows, at the model's rate and resampled from a stereo 22.05 kHz file; unusable files get the same flag or error.
 * The shipped model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAudio, resample } from '../../src/audio/index.js';
import { predictSegments } from '../../src/infer/inference.js';
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
