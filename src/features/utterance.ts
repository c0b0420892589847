/**
 * From a whole utterance to the model's fixed-size inputs: one definition for training, evaluation and every
 * inference path (Node, browser).
 *
 *   samples (mono, front-end rate)
 *     -> log-mel dB WITHOUT the top_db clamp, of the first `maxS` seconds          [nMels, T]   utteranceLogMel
 *     -> speech span [start, end): with `trimDb`, from the first to the last frame whose energy
 *        10 log10(sum over mels of power) is within trimDb of the loudest frame's; else [0, T)  speechSpan
 *     -> a window of `frames` frames at offset o in the span, L = end - start:                      windowLogMel
 *          fill 'repeat':  frame j reads start + ((o + j) mod L)   (a span shorter than the window is repeated,
 *                          a longer one cropped; 0 <= o < max(L - frames + 1, L))
 *          fill 'silence': frame j reads start + o + j while inside the span, else silence (-100 dB): the
 *                          paper's fixed-length clip (start cropped, end zero-padded) when trimDb is null
 *     -> the top_db clamp over the window (AmplitudeToDB on that clip: values below the window's max - topDb raised)
 *
 * Inference averages the class probabilities of `crops` windows at evenly spaced offsets (cropOffsets);
 * training draws offsets at random (src/train/augment.ts). The policy {trimDb null, fill 'silence', crops 1}
 * gives the paper's first-`durationS`-seconds clip up to the last two frames, where the cropped utterance's
 * STFT sees the audio after the cut instead of a reflection (clipLogMel, used by runs made before policies,
 * is that exact clip).
 */
import { SerError } from '../errors.js';
import { AMIN, clampTopDb } from './db.js';
import { samplesFor } from './config.js';
import type { LogMelFrontEnd, Spectrogram } from './front-end.js';

/** How an utterance becomes model inputs (see the module comment). */
export interface InputPolicy {
  /** Seconds analysed from the start of a recording (longer ones: only this much is read). */
  readonly maxS: number;
  /** Silence trimming threshold in dB below the loudest frame's energy; null: no trimming. */
  readonly trimDb: number | null;
  /** How a window extends past the span's end. */
  readonly fill: 'repeat' | 'silence';
  /** Windows averaged at inference (test-time augmentation); 1: the window at offset 0. */
  readonly crops: number;
}

/** The paper's clip: the first window of the untrimmed recording, zero-padded, one window. */
export const FIRST_CLIP_POLICY: InputPolicy = Object.freeze({ maxS: 12, trimDb: null, fill: 'silence', crops: 1 });

/** Decibels of digital silence (10 log10 AMIN). */
export const SILENCE_DB = 10 * Math.log10(AMIN);

/** Throws EARG naming every invalid field. */
export function checkInputPolicy(policy: InputPolicy): InputPolicy {
  const problems: string[] = [];
  if (!(policy.maxS > 0 && Number.isFinite(policy.maxS))) problems.push(`maxS must be a positive number of seconds (${policy.maxS} given)`);
  if (policy.trimDb !== null && !(policy.trimDb > 0 && Number.isFinite(policy.trimDb))) {
    problems.push(`trimDb must be a positive number of dB or null (${policy.trimDb} given)`);
  }
  if (policy.fill !== 'repeat' && policy.fill !== 'silence') problems.push(`fill must be 'repeat' or 'silence' ('${policy.fill}' given)`);
  if (!(Number.isInteger(policy.crops) && policy.crops >= 1)) problems.push(`crops must be an integer >= 1 (${policy.crops} given)`);
  if (problems.length > 0) throw new SerError('EARG', 'features', `invalid input policy: ${problems.join('; ')}`);
  return policy;
}

/**
 * Log-mel dB [nMels, T] of the first `maxS` seconds of `samples`, without the top_db clamp (windowLogMel applies
 * it per window). `unclamped` is a front end whose config has topDb null (see unclampedFrontEnd).
 */
export function utteranceLogMel(unclamped: LogMelFrontEnd, samples: Float32Array, maxS: number): Spectrogram {
  if (unclamped.config.topDb !== null) throw new SerError('EARG', 'features', 'utteranceLogMel needs a front end with topDb null');
  const length = Math.min(samples.length, samplesFor(maxS, unclamped.config));
  return unclamped.logMel(length === samples.length ? samples : samples.subarray(0, length));
}

/** Frames [start, end) of the speech in a log-mel (see the module comment); the whole of it when trimDb is null. */
export function speechSpan(logMel: Spectrogram, trimDb: number | null): { start: number; end: number } {
  const { data, nMels, frames } = logMel;
  if (trimDb === null || frames === 0) return { start: 0, end: frames };
  const energy = new Float64Array(frames);
  for (let m = 0; m < nMels; m++) {
    const row = m * frames;
    for (let t = 0; t < frames; t++) energy[t]! += 10 ** (data[row + t]! / 10);
  }
  let loudest = 0;
  for (let t = 0; t < frames; t++) loudest = Math.max(loudest, energy[t]!);
  if (loudest <= 0) return { start: 0, end: frames };
  const threshold = loudest * 10 ** (-trimDb / 10);
  let start = 0;
  while (energy[start]! < threshold) start++;
  let end = frames;
  while (energy[end - 1]! < threshold) end--;
  return { start, end };
}

/** The largest useful offset of a window of `frames` in a span of `length` frames (offsets 0..maxOffset). */
export function maxOffset(length: number, frames: number, fill: InputPolicy['fill']): number {
  if (length > frames) return length - frames;
  return fill === 'repeat' ? length - 1 : 0;
}

/** `crops` evenly spaced offsets round(k maxOffset / (crops - 1)), k = 0..crops-1 (repeated offsets dropped). */
export function cropOffsets(length: number, frames: number, policy: Pick<InputPolicy, 'fill' | 'crops'>): number[] {
  const last = length > frames ? length - frames : 0;
  if (policy.crops === 1 || last === 0) return [0];
  return [...new Set(Array.from({ length: policy.crops }, (_, k) => Math.round((k * last) / (policy.crops - 1))))];
}

/**
 * One model input [nMels, frames] from an utterance log-mel: the window at `offset` in `span` (see the module
 * comment), then the top_db clamp over the window. Writes into `out` (a new array when absent).
 */
export function windowLogMel(
  logMel: Spectrogram,
  span: { start: number; end: number },
  frames: number,
  offset: number,
  options: { fill: InputPolicy['fill']; topDb: number | null; out?: Float32Array },
): Float32Array {
  const { data, nMels, frames: total } = logMel;
  const out = options.out ?? new Float32Array(nMels * frames);
  if (out.length !== nMels * frames)
    throw new SerError('ESHAPE', 'features', `window buffer holds ${out.length} values, ${nMels} x ${frames} needed`);
  const length = span.end - span.start;
  if (!(span.start >= 0 && span.end <= total && length >= 0)) {
    throw new SerError('EARG', 'features', `span [${span.start}, ${span.end}) is outside the ${total} frames`);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let m = 0; m < nMels; m++) {
    const row = m * total + span.start;
    const target = m * frames;
    for (let j = 0; j < frames; j++) {
      let value: number;
      if (length === 0) value = SILENCE_DB;
      else if (options.fill === 'repeat') value = data[row + ((offset + j) % length)]!;
      else value = offset + j < length ? data[row + offset + j]! : SILENCE_DB;
      out[target + j] = value;
      if (value > max) max = value;
    }
  }
  if (options.topDb !== null) clampTopDb(out, options.topDb, max);
  return out;
}

/**
 * The inference inputs of one recording: `cropOffsets` windows of its speech span, [count, nMels, frames]
 * row-major. Their class probabilities are averaged into the recording's (src/eval/probabilities.ts averageWindowProbabilities).
 */
export function inferenceWindows(
  unclamped: LogMelFrontEnd,
  samples: Float32Array,
  frames: number,
  policy: InputPolicy,
  topDb: number | null,
): { windows: Float32Array; count: number } {
  return utteranceWindows(utteranceLogMel(unclamped, samples, policy.maxS), frames, policy, topDb);
}

/** inferenceWindows from an utterance's unclamped log-mel (utteranceLogMel), e.g. one read from the feature cache. */
export function utteranceWindows(
  logMel: Spectrogram,
  frames: number,
  policy: InputPolicy,
  topDb: number | null,
): { windows: Float32Array; count: number } {
  const span = speechSpan(logMel, policy.trimDb);
  const offsets = cropOffsets(span.end - span.start, frames, policy);
  const size = logMel.nMels * frames;
  const windows = new Float32Array(offsets.length * size);
  offsets.forEach((offset, i) => {
    windowLogMel(logMel, span, frames, offset, { fill: policy.fill, topDb, out: windows.subarray(i * size, (i + 1) * size) });
  });
  return { windows, count: offsets.length };
}
