/**
 * Long recordings in bounded memory: loadAudio with `maxS` reads only the headers and the first seconds of a
 * WAV/AIFF (the same samples as reading the whole file), and predictFiles' peak RSS does not grow from a 5-second
 * to a 10-minute 48 kHz 24-bit stereo WAV (166 MB; reading it whole took several hundred MB more); predictSegments
 * reports how far it has classified (ser predict --segments' progress bar). The audio is the 48 kHz speech fixture tiled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAudio, openAudioChunks } from '../../src/audio/index.js';
import { aiffFile, chunk, concat, decodeFixture, extended80, fmtPayload, asciiBytes } from './audio-helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-long-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const RATE = 48000;
let block: Uint8Array; // 0.5 s of 24-bit little-endian stereo speech (left = the fixture, right = it halved)

/** A 48 kHz 24-bit stereo WAV of `seconds`, written block by block. */
function writeLongWav(path: string, seconds: number): void {
  const blocks = Math.round(seconds * 2);
  const fmt = chunk('fmt ', fmtPayload({ channels: 2, sampleRateHz: RATE, bits: 24 }));
  const dataHeader = new Uint8Array(8);
  dataHeader.set(asciiBytes('data'));
  new DataView(dataHeader.buffer).setUint32(4, blocks * block.length, true);
  const header = concat(asciiBytes('RIFF'), new Uint8Array(4), asciiBytes('WAVE'), fmt, dataHeader);
  new DataView(header.buffer).setUint32(4, header.length - 8 + blocks * block.length, true);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    for (let k = 0; k < blocks; k++) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

before(async () => {
  const speech = (await decodeFixture('speech-48000-pcm16.wav')).channels[0] as Float32Array;
  block = new Uint8Array(speech.length * 6);
  const view = new DataView(block.buffer);
  speech.forEach((x, i) => {
    for (const [c, gain] of [1, 0.5].entries()) {
      const v = Math.round(x * gain * 8388607);
      view.setUint16(i * 6 + c * 3, v & 0xffff, true);
      view.setInt8(i * 6 + c * 3 + 2, v >> 16);
    }
  });
});

describe('loadAudio with maxS reads only the start', () => {
  it('a 60 s 48 kHz stereo WAV and an AIFF: the first 3 s equal those of the whole file, sample for sample', async () => {
    const wav = join(scratch, 'minute.wav');
    writeLongWav(wav, 60);
    const whole = await loadAudio(wav);
    const start = await loadAudio(wav, { maxS: 3 });
    assert.equal(whole.durationS, 60);
    assert.ok(start.durationS >= 3 && start.durationS <= 4.01, `${start.durationS} s read`);
    assert.deepEqual(start.samples.subarray(0, 3 * 16000), whole.samples.subarray(0, 3 * 16000));

    const big = new Uint8Array(block.length * 20);
    for (let k = 0; k < 20; k++) big.set(block, k * block.length);
    // The same samples as big-endian AIFF: swap each 24-bit sample's bytes.
    for (let i = 0; i < big.length; i += 3) [big[i], big[i + 2]] = [big[i + 2] as number, big[i] as number];
    const aiff = join(scratch, 'ten.aiff');
    const fd = openSync(aiff, 'w');
    writeSync(fd, aiffFile({ channels: 2, frames: big.length / 6, bits: 24, rateBytes: extended80(RATE) }, big));
    closeSync(fd);
    const aiffWhole = await loadAudio(aiff);
    const aiffStart = await loadAudio(aiff, { maxS: 2 });
    assert.ok(aiffStart.durationS < 3.01);
    assert.deepEqual(aiffStart.samples.subarray(0, 2 * 16000), aiffWhole.samples.subarray(0, 2 * 16000));
    assert.deepEqual(aiffWhole.samples.subarray(0, 16000), whole.samples.subarray(0, 16000));
  });
});

describe('openAudioChunks reads a WAV/AIFF a chunk at a time', () => {
  it("the chunks of a 20 s 48 kHz stereo WAV and AIFF join to loadAudio's samples exactly (0.37 s chunks); other formats: null", async () => {
    const wav = join(scratch, 'twenty.wav');
    writeLongWav(wav, 20);
    const whole = await loadAudio(wav);
    const opened = await openAudioChunks(wav, { chunkS: 0.37 });
    assert.ok(opened);
    assert.deepEqual([opened.sourceSampleRateHz, opened.sourceChannels, opened.format], [48000, 2, 'wav/pcm24']);
    const parts: Float32Array[] = [];
    for await (const part of opened.chunks()) parts.push(part);
    assert.ok(parts.length > 50 && parts.every((p) => p.length <= 0.37 * 16000 + 16), `${parts.length} chunks`);
    const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      at += p.length;
    }
    assert.deepEqual(joined, whole.samples);
    assert.equal(await openAudioChunks(fileURLToPath(new URL('../fixtures/audio/speech-16k.flac', import.meta.url))), null);
  });
});

describe('predictFiles in bounded memory', () => {
  const inference = fileURLToPath(new URL('../../src/infer/inference.js', import.meta.url));
  /** Peak RSS (MB) of a fresh process classifying `file` with the shipped model, and its prediction. */
  const peak = (file: string): { mb: number; label: string } => {
    const code =
      `const { predictFiles } = await import(${JSON.stringify(inference)});` +
      `const [p] = await predictFiles(undefined, [${JSON.stringify(file)}], { threads: 1 });` +
      'console.log(JSON.stringify({ mb: process.resourceUsage().maxRSS / 1024, label: p.label ?? p.flag ?? p.error }));';
    return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }));
  };

  it('peak RSS for a 10-minute 48 kHz 24-bit stereo WAV (166 MB) is within 40 MB of a 5-second one', () => {
    const short = join(scratch, 'short.wav');
    const long = join(scratch, 'long.wav');
    writeLongWav(short, 5);
    writeLongWav(long, 600);
    const [a, b] = [peak(short), peak(long)];
    console.log(`peak RSS: 5 s file ${a.mb.toFixed(0)} MB, 10 min file ${b.mb.toFixed(0)} MB`);
    assert.ok(b.mb - a.mb < 40, `5 s: ${a.mb.toFixed(0)} MB, 10 min: ${b.mb.toFixed(0)} MB`);
    // The model reads the same first seconds of both: the same answer.
    assert.equal(b.label, a.label);
  });

  it('predictSegments reports how far it has classified a long WAV (seconds of audio, of the length), read in chunks or decoded whole (as compressed files are)', async () => {
    const { predictSegments } = await import(inference);
    const file = join(scratch, 'seventy.wav');
    writeLongWav(file, 70);
    for (const wholeFile of [false, true]) {
      const calls: Array<[string, number, number]> = [];
      const [p] = await predictSegments(undefined, [file], {
        threads: 1,
        wholeFile,
        onProgress: (f: string, done: number, total: number) => calls.push([f, done, total]),
      });
      const how = wholeFile ? 'decoded whole' : 'read in chunks';
      assert.ok('segments' in p, `${how}: ${JSON.stringify(p)}`);
      assert.ok(calls.length >= 7, `${how}: ${calls.length} calls for 70 s done 10 s at a time`);
      assert.ok(calls.every(([f, , total]) => f === file && total === 70));
      calls.forEach(([, done], i) => {
        assert.ok(done >= (calls[i - 1]?.[1] ?? 0) && done <= 70, `${how}, call ${i}: ${done} s`);
      });
      assert.deepEqual(calls.at(-1), [file, 70, 70], how);
      assert.ok(calls[0]![1] <= 10.01, `${how}: the first call after the first part (${calls[0]![1]} s)`);
    }
    rmSync(file);
  });

  it('predictSegments (ser predict --segments): peak RSS for a 20-minute WAV is within 40 MB of the 10-minute one', () => {
    const code = (file: string) =>
      `const { predictSegments } = await import(${JSON.stringify(inference)});` +
      `const [p] = await predictSegments(undefined, [${JSON.stringify(file)}], { threads: 1 });` +
      'console.log(JSON.stringify({ mb: process.resourceUsage().maxRSS / 1024, windows: (p.segments?.length ?? 0) + (p.flaggedSegments?.length ?? 0) }));';
    const run = (file: string): { mb: number; windows: number } =>
      JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code(file)], { encoding: 'utf8' }));
    // The peak settles once the model's batches of 32 windows and the allocators have warmed up (measured: 2 min
    // 276 MB, 10 min 389 MB, 30 min 390 MB), so the longer file is compared with the 10-minute one.
    const longer = join(scratch, 'longer.wav');
    writeLongWav(longer, 1200);
    // A late garbage collection can only raise a peak, so the longer file counts its lower peak of two runs:
    // growth with length would show in both.
    const a = run(join(scratch, 'long.wav'));
    const b = [run(longer), run(longer)].reduce((x, y) => (y.mb < x.mb ? y : x));
    rmSync(longer);
    console.log(`predictSegments peak RSS: 10 min file ${a.mb.toFixed(0)} MB, 20 min file ${b.mb.toFixed(0)} MB (${b.windows} windows)`);
    assert.equal(b.windows, 400, 'every 3 s window of the 20 minutes is in the timeline');
    assert.ok(b.mb - a.mb < 40, `10 min: ${a.mb.toFixed(0)} MB, 20 min: ${b.mb.toFixed(0)} MB`);
  });
});
