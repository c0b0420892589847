/** Shared by the streaming and browser tests: float32 WAV bytes, and comparing two window timelines. */
import assert from 'node:assert/strict';
import type { FlaggedSegment, SegmentPrediction } from '../../src/infer/model-use.js';
import { SILENCE_LABEL } from '../../src/stream/index.js';
import { simpleWav } from '../audio/audio-helpers.js';

/** A float32 WAV of mono `samples`. */
export function wav(samples: Float32Array, sampleRateHz: number): Uint8Array {
  return simpleWav({ tag: 3, bits: 32, sampleRateHz }, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
}

/**
 * Asserts equal window spans and labels, and every probability within `tolerance`; returns the largest probability
 * difference.
 */
export function assertSameWindows(
  actual: readonly SegmentPrediction[],
  expected: readonly SegmentPrediction[],
  what: string,
  tolerance: number,
): number {
  assert.deepEqual(
    actual.map((w) => [w.startS, w.endS, w.label]),
    expected.map((w) => [w.startS, w.endS, w.label]),
    what,
  );
  let worst = 0;
  let where = '';
  for (const [i, w] of actual.entries()) {
    for (const [label, p] of Object.entries(expected[i]!.probabilities)) {
      const difference = Math.abs((w.probabilities[label] as number) - p);
      if (difference > worst) [worst, where] = [difference, `window ${i} (${w.startS}-${w.endS} s) ${label}`];
    }
  }
  assert.ok(worst < tolerance, `${what}: largest probability difference ${worst} at ${where} (tolerance ${tolerance})`);
  return worst;
}

/**
 * predictSegments' windows in time order, each flagged window (no speech) as a `silence` window without
 * probabilities: the timeline the streaming recognizer gives with its default voice-activity gate.
 */
export function timelineOf(prediction: {
  segments: readonly SegmentPrediction[];
  flaggedSegments: readonly FlaggedSegment[];
}): SegmentPrediction[] {
  const silent = prediction.flaggedSegments.map((f) => ({ startS: f.startS, endS: f.endS, label: SILENCE_LABEL, probabilities: {} }));
  return [...prediction.segments, ...silent].sort((a, b) => a.startS - b.startS);
}
