/**
 * Speaker-level input normalisation: every model input of a speaker's recordings has each mel band standardised
 * with that band's mean and standard deviation over the speech frames of ALL the speaker's recordings,
 *   x'[m, t] = (x[m, t] - mean_s[m]) / sqrt(var_s[m] + eps).
 * Per-clip normalisation (model/cnn-tm.ts normalizeInput 'band') removes each clip's own band means: the
 * speaker's and channel's spectral colouring, but also the clip's loudness and spectral tilt, which carry arousal.
 * Statistics over a speaker's recordings remove the speaker and channel and keep how a clip departs from the
 * speaker's usual voice (C. Busso, A. Metallinou, S. Narayanan, "Iterative feature normalization for emotional
 * speech detection", ICASSP 2011; speaker-level z-normalisation of features). It needs several recordings of the
 * speaker (or one long one); a group of one recording is a per-recording normalisation over its whole speech.
 *
 * The statistics are taken over the speech span (utterance.ts speechSpan) of each unclamped utterance log-mel,
 * with each utterance clamped at its span's maximum - topDb as the windows are (db.ts clampTopDb).
 */
import { SerError } from '../errors.js';
import type { Spectrogram } from './front-end.js';
import { speechSpan } from './utterance.js';

/** Variance floor (dB^2), as the in-graph input normalisation's. */
const SPEAKER_NORM_EPS = 1e-5;

/** Per mel band: the mean to subtract and the factor to multiply by (1 / standard deviation). */
export interface BandNormalizer {
  readonly mean: Float32Array;
  readonly scale: Float32Array;
}

/** The band statistics over the speech spans of `logMels` (one speaker's recordings; see the module comment). */
export function bandNormalizer(
  logMels: readonly Spectrogram[],
  spans: ReadonlyArray<{ start: number; end: number }>,
  topDb: number | null,
): BandNormalizer {
  const nMels = logMels[0]?.nMels ?? 0;
  if (nMels === 0) throw new SerError('EARG', 'speaker-norm', 'no recordings to take band statistics from');
  const sum = new Float64Array(nMels);
  const squares = new Float64Array(nMels);
  let count = 0;
  logMels.forEach((logMel, i) => {
    const { data, frames } = logMel;
    if (logMel.nMels !== nMels) throw new SerError('ESHAPE', 'speaker-norm', `log-mels of ${logMel.nMels} and ${nMels} mels`);
    const { start, end } = spans[i] as { start: number; end: number };
    let peak = Number.NEGATIVE_INFINITY;
    for (let m = 0; m < nMels; m++) for (let t = start; t < end; t++) peak = Math.max(peak, data[m * frames + t]!);
    const floor = topDb === null ? Number.NEGATIVE_INFINITY : Math.fround(peak - topDb);
    for (let m = 0; m < nMels; m++) {
      for (let t = start; t < end; t++) {
        const value = Math.max(data[m * frames + t]!, floor);
        sum[m]! += value;
        squares[m]! += value * value;
      }
    }
    count += end - start;
  });
  if (count === 0) throw new SerError('EARG', 'speaker-norm', 'the recordings hold no speech frames');
  const mean = new Float32Array(nMels);
  const scale = new Float32Array(nMels);
  for (let m = 0; m < nMels; m++) {
    const mu = sum[m]! / count;
    mean[m] = mu;
    scale[m] = 1 / Math.sqrt(Math.max(squares[m]! / count - mu * mu, 0) + SPEAKER_NORM_EPS);
  }
  return { mean, scale };
}

/**
 * The band statistics of one speaker from unclamped utterance log-mels (utterance.ts utteranceLogMel) of their
 * recordings: bandNormalizer over each one's speech span (speechSpan at `trimDb`), as training takes them.
 */
export function speakerNormalizer(logMels: readonly Spectrogram[], trimDb: number | null, topDb: number | null): BandNormalizer {
  return bandNormalizer(
    logMels,
    logMels.map((logMel) => speechSpan(logMel, trimDb)),
    topDb,
  );
}

/**
 * Each utterance's normalizer: the band statistics of its group (speaker), groups[i] naming utterance i's.
 * An empty group name stands for no known speaker: that utterance is its own group.
 */
export function groupNormalizers(
  logMels: readonly Spectrogram[],
  spans: ReadonlyArray<{ start: number; end: number }>,
  groups: readonly string[],
  topDb: number | null,
): BandNormalizer[] {
  if (groups.length !== logMels.length || spans.length !== logMels.length)
    throw new SerError('EARG', 'speaker-norm', `${logMels.length} log-mels, ${spans.length} spans, ${groups.length} group names`);
  const members = new Map<string, number[]>();
  groups.forEach((group, i) => {
    const key = group === '' ? `\u0000${i}` : group;
    const list = members.get(key);
    if (list) list.push(i);
    else members.set(key, [i]);
  });
  const out = new Array<BandNormalizer>(logMels.length);
  for (const list of members.values()) {
    const normalizer = bandNormalizer(
      list.map((i) => logMels[i] as Spectrogram),
      list.map((i) => spans[i] as { start: number; end: number }),
      topDb,
    );
    for (const i of list) out[i] = normalizer;
  }
  return out;
}

/** Applies `normalizer` to windows [n, nMels, frames] (any n), in place. */
export function normalizeBands(windows: Float32Array, normalizer: BandNormalizer, frames: number): Float32Array {
  const nMels = normalizer.mean.length;
  const size = nMels * frames;
  if (windows.length % size !== 0)
    throw new SerError('ESHAPE', 'speaker-norm', `${windows.length} values are not whole windows of ${nMels} x ${frames}`);
  for (let w = 0; w < windows.length; w += size) {
    for (let m = 0; m < nMels; m++) {
      const mean = normalizer.mean[m]!;
      const scale = normalizer.scale[m]!;
      const row = windows.subarray(w + m * frames, w + (m + 1) * frames);
      for (let t = 0; t < frames; t++) row[t] = (row[t]! - mean) * scale;
    }
  }
  return windows;
}
