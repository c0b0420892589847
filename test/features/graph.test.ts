/**
 * The front end emitted as ONNX nodes (src/features/graph.ts), run by ONNX Runtime, equals the CPU path
 * (LogMelFrontEnd.logMel) clip by clip in a batch. The graph computes the DFT as a float32 convolution, so the
 * comparison uses the golden-test criteria: dB within DB_TOLERANCE where the power is within 80 dB of the
 * clip's peak, and the clamp floor where top_db clamps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FrontEndConfig, LogMelFrontEnd, fixLength } from '../../src/features/index.js';
import { logMelNodes } from '../../src/features/graph.js';
import { Graph, toOnnx } from '../../src/graph/index.js';
import { createSession } from '../../src/runtime/index.js';

const DB_TOLERANCE = 2e-3; // measured 8.4e-4 (default) and 9.0e-4 (Slaney 64) on 2026-11-25

/** A 3 s test batch: a chirp, noise-like content, and 1 s of speech-like bursts then silence. */
function batch(): Float32Array[] {
  const n = 48000;
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const chirp = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(2 * Math.PI * (100 * (i / 16000) + 1200 * (i / 16000) ** 2)));
  const hiss = Float32Array.from({ length: n }, () => 0.2 * noise());
  const bursts = fixLength(
    Float32Array.from({ length: 16000 }, (_, i) => (Math.floor(i / 2000) % 2 === 0 ? 0.3 * Math.sin(0.2 * i) * (1 + noise()) : 0)),
    n,
  );
  return [chirp, hiss, bursts];
}

async function compare(config: Partial<FrontEndConfig>): Promise<number> {
  const frontEnd = new LogMelFrontEnd(config);
  const clips = batch();
  const length = clips[0]!.length;
  const g = new Graph('front_end');
  const waveform = g.input('waveform', [clips.length, length]);
  g.output('mel_db', logMelNodes(waveform, frontEnd));
  const session = await createSession(toOnnx(g), { threads: 2 });
  const data = new Float32Array(clips.length * length);
  for (const [b, clip] of clips.entries()) data.set(clip, b * length);
  const result = await session.run({ waveform: { data, shape: [clips.length, length] } });
  await session.release();
  const out = result.mel_db!;
  const frames = frontEnd.framesFor(length);
  assert.deepEqual(out.shape, [clips.length, frontEnd.config.nMels, frames]);
  let worst = 0;
  clips.forEach((clip, b) => {
    const power = frontEnd.melPower(clip).data;
    const expected = frontEnd.logMel(clip).data;
    let peak = 0;
    for (const v of power) peak = Math.max(peak, v);
    let floor = Number.POSITIVE_INFINITY;
    for (const v of expected) floor = Math.min(floor, v);
    const actual = (out.data as Float32Array).subarray(b * expected.length, (b + 1) * expected.length);
    for (let i = 0; i < expected.length; i++) {
      const clamped = frontEnd.config.topDb !== null && expected[i] === floor;
      if (clamped || power[i]! > 1e-8 * peak) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    }
  });
  return worst;
}

describe('log-mel as ONNX nodes', () => {
  it(`default front end (top_db 80): ORT equals the CPU path within ${DB_TOLERANCE} dB`, async () => {
    const error = await compare({});
    assert.ok(error <= DB_TOLERANCE, `max dB error ${error}`);
  });
  it(`Slaney 64 mels, n_fft 512, win 400, no top_db: within ${DB_TOLERANCE} dB`, async () => {
    const error = await compare({
      nFft: 512,
      winLength: 400,
      hopLength: 160,
      nMels: 64,
      fMinHz: 20,
      fMaxHz: 7600,
      melScale: 'slaney',
      norm: 'slaney',
      topDb: null,
    });
    assert.ok(error <= DB_TOLERANCE, `max dB error ${error}`);
  });
});
