/**
 * Decoding the committed fixtures (test/fixtures/audio, made by make-fixtures.sh from one 0.5 s CREMA-D
 * clip): every format lands on the right rate, channel count and length, and its samples match the 16-bit
 * WAV reference: exactly for lossless re-encodings (wider PCM, float, AIFF, FLAC), within one quantisation
 * step for 8-bit, by correlation for lossy codecs and other sample rates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAudio, loadAudio, sniffFormat, toMono } from '../../src/audio/index.js';
import { maxAbsDiff } from '../helpers.js';
import { audioFixtures, bestAlignment, decodeFixture, fixtureBytes } from './audio-helpers.js';

const REFERENCE = 'speech-16k-pcm16.wav';
const REFERENCE_SAMPLES = 8000; // 0.5 s at 16 kHz

async function reference(): Promise<Float32Array> {
  const decoded = await decodeFixture(REFERENCE);
  return decoded.channels[0] as Float32Array;
}

describe('decodeAudio: lossless fixtures equal the 16-bit WAV reference', () => {
  // [file, expected format label]. All hold the reference's 8000 samples; widening 16-bit integers to
  // 24/32 bits or float is exact, so the decoded values must be identical, not merely close.
  const exact: Array<[string, string]> = [
    ['speech-16k-pcm24.wav', 'wav/pcm24'],
    ['speech-16k-pcm32.wav', 'wav/pcm32'],
    ['speech-16k-float32.wav', 'wav/float32'],
    ['speech-16k-float64.wav', 'wav/float64'],
    ['speech-16k-pcm24-extensible.wav', 'wav/pcm24'],
    ['speech-16k-float32-extensible.wav', 'wav/float32'],
    ['speech-16k-streamed-sox.wav', 'wav/pcm16'], // data size 0x7ffff000
    ['speech-16k-streamed-ffmpeg.wav', 'wav/pcm16'], // data size 0xffffffff, LIST chunk before data
    ['speech-16k-pcm16.aiff', 'aiff/pcm16'],
    ['speech-16k-aiff-named.wav', 'aiff/pcm16'], // AIFF content under a .wav name: content decides
    ['speech-16k-sowt.aifc', 'aifc/pcm16le'],
    ['speech-16k-fl32.aifc', 'aifc/float32'],
    ['speech-16k.flac', 'flac'],
  ];
  for (const [file, format] of exact) {
    it(`${file} -> ${format}, identical samples`, async () => {
      const ref = await reference();
      const decoded = await decodeFixture(file);
      assert.equal(decoded.format, format);
      assert.equal(decoded.sampleRateHz, 16000);
      assert.equal(decoded.channels.length, 1);
      assert.equal(decoded.channels[0]?.length, REFERENCE_SAMPLES);
      assert.equal(maxAbsDiff(decoded.channels[0] as Float32Array, ref), 0);
    });
  }

  it('the reference is real speech scaled by 1/32768 (not silence, within [-1, 1))', async () => {
    const ref = await reference();
    const peak = Math.max(...Array.from(ref, Math.abs));
    assert.ok(peak > 0.1 && peak < 1, `peak ${peak}`);
    // every value is an integer / 32768
    assert.ok(ref.every((x) => Number.isInteger(x * 32768)));
  });

  it('8-bit unsigned WAV is within half a step (1/256) of the reference: sox rounded 16 -> 8 bits', async () => {
    const ref = await reference();
    const decoded = await decodeFixture('speech-16k-u8.wav');
    assert.equal(decoded.format, 'wav/pcmu8');
    assert.equal(decoded.channels[0]?.length, REFERENCE_SAMPLES);
    const u8 = decoded.channels[0] as Float32Array;
    assert.ok(maxAbsDiff(u8, ref) <= 1 / 256);
    assert.ok(u8.every((x) => Number.isInteger(x * 128))); // (x - 128) / 128
  });
});

describe('decodeAudio: sample rates', () => {
  for (const rate of [8000, 22050, 44100, 48000]) {
    it(`${rate} Hz: rate and length (0.5 s) from the header; loadAudio at 16 kHz correlates with the reference`, async () => {
      const decoded = await decodeFixture(`speech-${rate}-pcm16.wav`);
      assert.equal(decoded.sampleRateHz, rate);
      assert.equal(decoded.channels[0]?.length, rate / 2);
      const loaded = await loadAudio(`${audioFixtures}/speech-${rate}-pcm16.wav`);
      assert.equal(loaded.sourceSampleRateHz, rate);
      assert.equal(loaded.samples.length, REFERENCE_SAMPLES);
      // sox `rate -v` there and torchaudio's resample back differ only near Nyquist; 8 kHz lost 4-8 kHz.
      // Measured: 0.99999 for 22.05/44.1/48 kHz, 0.994 for 8 kHz, at lag 0.
      const { lag, correlation } = bestAlignment(loaded.samples, await reference(), 20);
      assert.equal(lag, 0);
      assert.ok(correlation > (rate === 8000 ? 0.98 : 0.9999), `correlation ${correlation}`);
    });
  }
});

describe('decodeAudio: compressed formats through audio-decode', () => {
  // [file, format, decoded rate, decoded length, lag in samples at 16 kHz, minimum correlation with the reference (measured)]
  const lossy: Array<[string, string, number, number, number, number]> = [
    ['speech-16k.mp3', 'mp3', 16000, 8000, 0, 0.99], // measured 0.9997 (64 kbit/s LAME)
    ['speech-16k.ogg', 'ogg/vorbis', 16000, 8000, 0, 0.99], // measured 0.998 (q6)
    ['speech-16k.opus', 'ogg/opus', 48000, 24000, 0, 0.98], // measured 0.992 after resampling to 16 kHz (48 kbit/s)
    ['speech-16k.m4a', 'm4a', 16000, 8000, 0, 0.99], // measured 0.996 (ffmpeg aac 48 kbit/s; MP4 edit list trims the priming)
    // ADTS carries no encoder delay: the decode keeps the priming (lag 481 at 16 kHz, measured); the decoder assumes
    // implicit SBR and outputs twice the 16 kHz core rate.
    ['speech-16k.aac', 'aac', 32000, 16384, 481, 0.99], // measured 0.996
    ['speech-16k.webm', 'webm', 48000, 24000, 0, 0.98], // measured 0.985 (libopus 32 kbit/s in WebM)
    ['speech-16k.caf', 'caf', 16000, 8000, 0, 0.9999], // 16-bit PCM in CAF: measured 1
  ];
  for (const [file, format, rate, length, expectedLag, minCorrelation] of lossy) {
    it(`${file} -> ${format} at ${rate} Hz, ${length} samples, correlation > ${minCorrelation}`, async () => {
      const decoded = await decodeFixture(file);
      assert.equal(decoded.format, format);
      assert.equal(decoded.sampleRateHz, rate);
      assert.equal(decoded.channels.length, 1);
      assert.equal(decoded.channels[0]?.length, length);
      const loaded = await loadAudio(`${audioFixtures}/${file}`);
      assert.equal(loaded.samples.length, Math.ceil((16000 * length) / rate)); // resampled to 16 kHz
      // encoder delay is trimmed by the decoders (gapless) where the container says it, so the best lag is 0 or 1 sample
      const { lag, correlation } = bestAlignment(loaded.samples, await reference(), 600);
      assert.ok(Math.abs(lag - expectedLag) <= 1, `lag ${lag}`);
      assert.ok(correlation > minCorrelation, `correlation ${correlation}`);
    });
  }
});

describe('toMono', () => {
  it('the stereo fixture: left is the reference, right differs, mono is the mean (float32 (a + b) / 2)', async () => {
    const decoded = await decodeFixture('speech-16k-stereo-pcm16.wav');
    assert.equal(decoded.channels.length, 2);
    const [left, right] = decoded.channels as [Float32Array, Float32Array];
    assert.equal(maxAbsDiff(left, await reference()), 0);
    assert.ok(maxAbsDiff(left, right) > 0.05, 'channels should be different recordings');
    const mono = toMono(decoded.channels);
    for (let i = 0; i < mono.length; i++) assert.equal(mono[i], Math.fround(((left[i] as number) + (right[i] as number)) / 2));
  });

  it('hand-derived: three channels average, one channel is returned as is, none is empty', () => {
    const mono = toMono([Float32Array.of(1, 0.5), Float32Array.of(0, 0.5), Float32Array.of(-0.4, -1)]);
    assert.deepEqual(Array.from(mono), [Math.fround(0.2), 0]);
    const single = Float32Array.of(0.25);
    assert.equal(toMono([single]), single);
    assert.equal(toMono([]).length, 0);
  });

  it('loadAudio reports the source channel count and returns the mono mixdown', async () => {
    const loaded = await loadAudio(`${audioFixtures}/speech-16k-stereo-pcm16.wav`);
    const decoded = await decodeFixture('speech-16k-stereo-pcm16.wav');
    assert.equal(loaded.sourceChannels, 2);
    assert.deepEqual(loaded.samples, toMono(decoded.channels));
  });
});

describe('sniffFormat: content, not name', () => {
  const cases: Array<[string, string]> = [
    ['speech-16k-pcm16.wav', 'wav'],
    ['speech-16k-aiff-named.wav', 'aiff'],
    ['speech-16k-sowt.aifc', 'aiff'],
    ['speech-16k.flac', 'flac'],
    ['speech-16k.mp3', 'mp3'], // starts with an ID3v2 tag
    ['speech-16k.ogg', 'ogg/vorbis'],
    ['speech-16k.opus', 'ogg/opus'],
    ['speech-16k.m4a', 'm4a'],
    ['speech-16k.aac', 'aac'],
    ['speech-16k.webm', 'webm'],
    ['speech-16k.caf', 'caf'],
  ];
  for (const [file, container] of cases) {
    it(`${file} is ${container}`, () => assert.equal(sniffFormat(fixtureBytes(file)), container));
  }
  it('decodeAudio ignores the name it is given', async () => {
    const decoded = await decodeAudio(fixtureBytes('speech-16k.flac'), 'clip.wav');
    assert.equal(decoded.format, 'flac');
  });
});
