/**
 * The streaming recognizer (src/stream) against the whole-recording paths, on real speech (RAVDESS clips of
 * assets/corpus joined into a 14 s recording): chunked resampling equals resample() sample for sample; chunked WAV
 * and raw PCM bytes decode to decodeWav's samples; windows pushed in chunks of any size and rate equal
 * `ser predict --segments` (predictSegments) window for window (labels equal, probabilities within 1e-5: the
 * model runs one window per call here, a batch there); a window's result comes with the chunk holding its last
 * sample; windows of silence, of steady hiss, and the quiet end of a clip are reported as silence (src/audio/vad.ts);
 * `ser stream` prints the same windows for a WAV or raw PCM stream on stdin.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeAudio, loadAudio, resample } from '../../src/audio/index.js';
import { assetPath } from '../../src/io/paths.js';
import { PcmStreamDecoder, rawFormat } from '../../src/stream/pcm-input.js';
import { SILENCE_LABEL, StreamResampler, StreamingRecognizer, type StreamWindow, windowModel } from '../../src/stream/index.js';
import { RunModel, allPredicted, predictSegments } from '../../src/infer/inference.js';
import { runCli } from '../cli/run-cli.js';
import { assertSameWindows, timelineOf, wav } from './windows.js';

const TOLERANCE = 1e-5;
const scratch = mkdtempSync(join(tmpdir(), 'ser-stream-'));
let model: RunModel;
let speech: Float32Array; // 14 s at 16 kHz

/** A deterministic chunk-size sequence (1 .. max samples). */
function chunkSizes(seed: number, max: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return 1 + (state % max);
  };
}

async function streamAll(recognizer: StreamingRecognizer, samples: Float32Array, maxChunk: number): Promise<StreamWindow[]> {
  const next = chunkSizes(maxChunk, maxChunk);
  const out: StreamWindow[] = [];
  for (let at = 0; at < samples.length; ) {
    const size = next();
    out.push(...(await recognizer.push(samples.subarray(at, at + size))));
    at += size;
  }
  out.push(...(await recognizer.end()));
  return out;
}

before(async () => {
  const dir = assetPath('corpus', 'ravdess', 'Actor_02');
  const parts: Float32Array[] = [];
  for (const file of readdirSync(dir)
    .filter((_, i) => i % 7 === 0)
    .slice(0, 4))
    parts.push((await loadAudio(join(dir, file))).samples);
  parts.splice(2, 0, new Float32Array(16000)); // 1 s pause
  speech = new Float32Array(14 * 16000);
  let at = 0;
  for (const part of parts) {
    speech.set(part.subarray(0, speech.length - at), at);
    at += part.length;
  }
  model = await RunModel.load(undefined, { threads: 1 });
});
after(async () => {
  await model?.release();
  rmSync(scratch, { recursive: true, force: true });
});

describe('StreamResampler and PcmStreamDecoder', () => {
  it('chunked resampling equals resample() on the whole signal, sample for sample', () => {
    const at44k = resample(speech.subarray(0, 5 * 16000), 16000, 44100);
    for (const [input, from, to] of [
      [at44k, 44100, 16000],
      [speech.subarray(0, 80000), 16000, 22050],
      [speech.subarray(0, 40000), 8000, 16000],
      [speech.subarray(0, 20000), 16000, 16000],
    ] as const) {
      const stream = new StreamResampler(from, to);
      const next = chunkSizes(from, 3000);
      const parts: Float32Array[] = [];
      for (let at = 0; at < input.length; ) {
        const size = next();
        parts.push(stream.push(input.subarray(at, at + size)));
        at += size;
      }
      parts.push(stream.end());
      const joined = Float32Array.from(parts.flatMap((p) => Array.from(p)));
      assert.deepEqual(joined, resample(input, from, to), `${from} -> ${to}`);
    }
  });

  it("WAV bytes in chunks (the header split anywhere) and raw PCM decode to the whole file's samples", async () => {
    const bytes = wav(speech.subarray(0, 20000), 16000);
    const whole = (await decodeAudio(bytes, 'speech.wav')).channels[0]!;
    for (const split of [1, 7, 12, 20, 36, 43, 44, 45, 1001]) {
      const decoder = new PcmStreamDecoder('stdin');
      const parts = [
        ...decoder.push(bytes.subarray(0, split)),
        ...decoder.push(bytes.subarray(split, split + 333)),
        ...decoder.push(bytes.subarray(split + 333)),
      ];
      decoder.end();
      assert.equal(decoder.format?.sampleRateHz, 16000);
      assert.deepEqual(Float32Array.from(parts.flatMap((p) => Array.from(p))), whole, `split at ${split}`);
    }
    const int16 = Int16Array.from(speech.subarray(0, 1000), (x) => Math.round(x * 32767));
    const raw = new PcmStreamDecoder('stdin', rawFormat('s16le', 16000, 1));
    const odd = new Uint8Array(int16.buffer);
    const decoded = [...raw.push(odd.subarray(0, 3)), ...raw.push(odd.subarray(3))];
    assert.deepEqual(
      Float32Array.from(decoded.flatMap((p) => Array.from(p))),
      Float32Array.from(int16, (x) => x / 32768),
    );
    assert.throws(
      () => new PcmStreamDecoder('stdin').push(new TextEncoder().encode('ID3 not a wav file')),
      /EDECODE|not a WAV stream.*--raw/,
    );
    assert.throws(() => rawFormat('s24be', 16000, 1), /unknown raw encoding 's24be' \(one of s16le/);
  });
});

describe('StreamingRecognizer', () => {
  it(`equals ser predict --segments window for window (any chunk size, 16 and 44.1 kHz, hop = window and 1.5 s), within ${TOLERANCE}`, async () => {
    const file16 = join(scratch, 'speech16.wav');
    const file44 = join(scratch, 'speech44.wav');
    writeFileSync(file16, wav(speech, 16000));
    const at44k = resample(speech, 16000, 44100);
    writeFileSync(file44, wav(at44k, 44100));
    for (const [file, samples, rate, hopS, maxChunk] of [
      [file16, speech, 16000, undefined, 4096],
      [file16, speech, 16000, 1.5, 160],
      [file44, at44k, 44100, undefined, 20000],
    ] as const) {
      const [expected] = allPredicted(await predictSegments(undefined, [file], { hopS, threads: 1, gate: false }));
      // No voice-activity gate on either side: every window classified (the gate has its own test).
      const recognizer = new StreamingRecognizer(windowModel(model), { inputRateHz: rate, hopS, speechGate: null });
      const windows = await streamAll(recognizer, samples, maxChunk);
      assert.ok(windows.length >= 5, `${windows.length} windows`);
      assertSameWindows(windows, expected!.segments, `${file} hop ${hopS ?? 'default'} chunks <= ${maxChunk}`, TOLERANCE);
    }
  });

  it("a window's result comes with the chunk that holds its last sample", async () => {
    const recognizer = new StreamingRecognizer(windowModel(model), { inputRateHz: 16000, windowS: 2, hopS: 1 });
    assert.deepEqual(await recognizer.push(speech.subarray(0, 31999)), []);
    const first = await recognizer.push(speech.subarray(31999, 32000));
    assert.deepEqual(
      first.map((w) => [w.startS, w.endS]),
      [[0, 2]],
    );
    const next = await recognizer.push(speech.subarray(32000, 64000));
    assert.deepEqual(
      next.map((w) => [w.startS, w.endS]),
      [
        [1, 3],
        [2, 4],
      ],
    );
    assert.deepEqual(
      (await recognizer.end()).map((w) => [w.startS, w.endS]),
      [[3, 4]],
    );
    await assert.rejects(recognizer.push(speech.subarray(0, 10)), /push\(\) after end\(\)/);
  });

  it('windows of digital silence and of steady hiss are reported as silence; speech windows as ser predict --segments', async () => {
    let seed = 1;
    const hiss = Float32Array.from({ length: 48000 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return 0.02 * (seed / 2 ** 32 - 0.5);
    });
    const recording = new Float32Array(4 * 48000);
    recording.set(speech.subarray(0, 48000));
    recording.set(hiss, 2 * 48000);
    recording.set(speech.subarray(96000, 144000), 3 * 48000);
    const file = join(scratch, 'gaps.wav');
    writeFileSync(file, wav(recording, 16000));
    const [expected] = allPredicted(await predictSegments(undefined, [file], { threads: 1 }));
    const [ungatedExpected] = allPredicted(await predictSegments(undefined, [file], { threads: 1, gate: false }));
    const windows = await streamAll(new StreamingRecognizer(windowModel(model), { inputRateHz: 16000 }), recording, 8000);
    assert.deepEqual(
      windows.map((w) => [w.label === SILENCE_LABEL, w.speech]),
      [
        [false, true],
        [true, false],
        [true, false],
        [false, true],
      ],
    );
    assertSameWindows(windows, timelineOf(expected!), 'gated: speech windows and silence as ser predict --segments', TOLERANCE);
    const ungated = await streamAll(new StreamingRecognizer(windowModel(model), { inputRateHz: 16000, speechGate: null }), recording, 8000);
    assertSameWindows(ungated, ungatedExpected!.segments, 'speechGate null: every window classified', TOLERANCE);
  });
});

describe('ser stream', () => {
  const run = async (args: string[], stdin: Uint8Array) => {
    const result = await runCli(['stream', '--threads', '1', ...args], { stdin });
    return {
      ...result,
      lines: result.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StreamWindow),
    };
  };

  it('prints one JSON line per window for a WAV stream and for raw PCM, the windows of ser predict --segments', async () => {
    const file = join(scratch, 'cli.wav');
    writeFileSync(file, wav(speech, 16000));
    const [expected] = allPredicted(await predictSegments(undefined, [file], { threads: 1 }));
    const [ungatedExpected] = allPredicted(await predictSegments(undefined, [file], { threads: 1, gate: false }));
    const fromWav = await run(['--no-vad'], readFileSync(file));
    assert.equal(fromWav.code, 0, fromWav.stderr);
    assertSameWindows(fromWav.lines, ungatedExpected!.segments, 'ser stream --no-vad < wav', TOLERANCE);
    // With the voice-activity gate (default) the last window, the fourth clip's quiet end (< 0.25 s voice-active), is silence.
    const gated = await run(['--raw', '--rate', '16000', '--encoding', 'f32le'], new Uint8Array(speech.buffer));
    assert.equal(gated.code, 0, gated.stderr);
    assert.deepEqual(
      gated.lines.map((w) => w.speech),
      [true, true, true, true, false],
    );
    assertSameWindows(gated.lines, timelineOf(expected!), 'ser stream --raw, gated like ser predict --segments', TOLERANCE);
    const fromRaw = await run(['--raw', '--rate', '16000', '--encoding', 'f32le', '--no-vad'], new Uint8Array(speech.buffer));
    assert.equal(fromRaw.code, 0, fromRaw.stderr);
    assertSameWindows(fromRaw.lines, ungatedExpected!.segments, 'ser stream --raw --no-vad', TOLERANCE);
    const noRate = await run(['--raw'], new Uint8Array(10));
    assert.equal(noRate.code, 1);
    assert.match(noRate.stderr, /--raw needs --rate/);
  });
});
