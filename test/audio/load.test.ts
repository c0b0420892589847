/** loadAudio end to end (file -> mono 16 kHz LoadedAudio) and loadAudioBatch's collect-and-go-on contract. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAudio, loadAudioBatch, resample } from '../../src/audio/index.js';
import { SerError } from '../../src/errors.js';
import { maxAbsDiff } from '../helpers.js';
import { audioFixtures, decodeFixture, int16Bytes, simpleWav } from './audio-helpers.js';

describe('loadAudio', () => {
  it('a 16 kHz mono WAV passes through unchanged, with its metadata', async () => {
    const loaded = await loadAudio(join(audioFixtures, 'speech-16k-pcm16.wav'));
    const decoded = await decodeFixture('speech-16k-pcm16.wav');
    assert.deepEqual(loaded.samples, decoded.channels[0]);
    assert.equal(loaded.sampleRateHz, 16000);
    assert.equal(loaded.sourceSampleRateHz, 16000);
    assert.equal(loaded.sourceChannels, 1);
    assert.equal(loaded.format, 'wav/pcm16');
    assert.equal(loaded.durationS, 0.5);
  });

  it('a 44.1 kHz file is resampled with resample() (the same numbers, not merely similar)', async () => {
    const loaded = await loadAudio(join(audioFixtures, 'speech-44100-pcm16.wav'));
    const decoded = await decodeFixture('speech-44100-pcm16.wav');
    assert.equal(maxAbsDiff(loaded.samples, resample(decoded.channels[0] as Float32Array, 44100, 16000)), 0);
    assert.equal(loaded.sourceSampleRateHz, 44100);
    assert.equal(loaded.sampleRateHz, 16000);
  });

  it('options.sampleRateHz chooses another output rate', async () => {
    const loaded = await loadAudio(join(audioFixtures, 'speech-16k-pcm16.wav'), { sampleRateHz: 8000 });
    assert.equal(loaded.sampleRateHz, 8000);
    assert.equal(loaded.samples.length, 4000);
    assert.equal(loaded.durationS, 0.5);
  });
});

describe('loadAudioBatch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-batch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports every failure with its path and error, keeps input order, and goes on', async () => {
    const empty = join(dir, 'empty.wav');
    writeFileSync(empty, new Uint8Array(0));
    const silentButValid = join(dir, 'two-samples.wav');
    writeFileSync(silentButValid, simpleWav({}, int16Bytes([0, 0])));
    const paths = [
      join(audioFixtures, 'speech-16k.flac'),
      join(dir, 'missing.wav'),
      empty,
      join(audioFixtures, 'speech-16k-stereo-pcm16.wav'),
      silentButValid,
    ];
    const progress: number[] = [];
    const result = await loadAudioBatch(paths, { concurrency: 2, onProgress: (done, total) => progress.push(done / total) });
    assert.deepEqual(
      result.ok.map((r) => r.path),
      [paths[0], paths[3], paths[4]],
    );
    assert.deepEqual(
      result.failed.map((f) => [f.path, f.error.code]),
      [
        [paths[1], 'EIO'],
        [paths[2], 'EDECODE'],
      ],
    );
    for (const f of result.failed) {
      assert.ok(f.error instanceof SerError);
      assert.ok(f.error.message.includes(f.path), f.error.message);
    }
    assert.equal(result.ok[1]?.audio.sourceChannels, 2);
    assert.deepEqual(progress, [0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('an empty list is an empty result; a bad concurrency is EARG', async () => {
    assert.deepEqual(await loadAudioBatch([]), { ok: [], failed: [] });
    await assert.rejects(
      () => loadAudioBatch(['x'], { concurrency: 0 }),
      (e: unknown) => e instanceof SerError && e.code === 'EARG',
    );
  });
});
