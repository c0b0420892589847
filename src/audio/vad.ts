/**
 * What counts as unusable audio, in one place: the rule `ser predict`, `ser eval`, the library and the streaming
 * recognizer share. A recording is
 *
 *   an error (EAUDIO)   when a sample is NaN/infinite, or |x| > MAX_ABS_SAMPLE (2^16: float files scaled like
 *                       int16, up to 32768, still pass; 1e20 does not, and would overflow the power spectrum);
 *   flagged too_short   when it lasts less than `minDurationS` (default 0.5 s: too little prosody to judge);
 *   flagged no_speech   when less than `minSpeechS` (default 0.25 s) of it is voice-active (below);
 *   ok                  otherwise.
 *
 * Voice activity is an energy rule on frames of `frameS` seconds (default 20 ms, no overlap; a trailing partial
 * frame counts when at least half full). A frame's level is its RMS in dBFS, 0 dBFS = RMS 1 (full-scale square
 * wave; a full-scale sine is -3 dBFS):
 *
 *     level = 10 log10(mean(x^2) + 1e-20)
 *
 * and the frame is active when all of
 *     level >= floorDbfs                (default -70 dBFS: digital silence and fainter hiss never pass),
 *     level >= peak - relativeDb        (default 40 dB below the loudest frame: pauses between words are not speech),
 *     contrast >= minContrastDb         (default 6 dB; contrast = loudest frame - the 10th-percentile frame level:
 *                                        speech comes and goes by tens of dB, steady noise or hum at any level
 *                                        varies by a dB or two, so a recording without contrast has no active frame).
 * Measured on every clip of the shared corpora (6,861: RAVDESS, nEMO, EMOVO, URDU, Korean emotiontts, the CREMA-D
 * samples): none flagged; the least level contrast 11.1 dB (an URDU TV clip), the least voice-active time 0.78 s,
 * the quietest loudest frame -54.5 dBFS (RAVDESS actor 09). White noise at any level has a contrast under 3 dB
 * (test/audio/vad.test.ts). The rule is energy only: loud non-speech sound that
 * comes and goes (music, knocking) counts as speech.
 */
import { SerError } from '../errors.js';

/** Largest |sample| accepted: 2^16 full scale (+96 dBFS). Float files scaled like int16 (up to 32768) pass. */
export const MAX_ABS_SAMPLE = 65536;

export interface VoiceActivityOptions {
  /** Frame length in seconds (default 0.02). */
  frameS?: number;
  /** Absolute level a frame must reach, dBFS (default -60). */
  floorDbfs?: number;
  /** How far below the loudest frame an active frame may be, dB (default 40). */
  relativeDb?: number;
  /** Loudest minus 10th-percentile frame level a recording needs to hold speech at all, dB (default 10). */
  minContrastDb?: number;
}

export interface VoiceActivity {
  /** Frame length in seconds (frames are consecutive, no overlap; frame i starts at i * frameS). */
  frameS: number;
  /** Level of each frame in dBFS ([frames]). */
  levelsDbfs: Float32Array;
  /** 1 where the frame is voice-active, else 0 ([frames]). */
  active: Uint8Array;
  /** Loudest frame level, dBFS (-200 for no frames). */
  peakDbfs: number;
  /** peakDbfs minus the 10th-percentile frame level, dB (0 for no frames). */
  contrastDb: number;
  /** Active frames times frameS. */
  speechS: number;
  /** Recording length in seconds. */
  durationS: number;
}

export const VAD_DEFAULTS: Required<VoiceActivityOptions> = Object.freeze({
  frameS: 0.02,
  floorDbfs: -70,
  relativeDb: 40,
  minContrastDb: 6,
});

/** Level of digital silence: 10 log10(1e-20). */
const SILENCE_DBFS = -200;

/** Frame levels and the voice-activity mask of mono `samples` at `sampleRateHz` (rule in the module comment). */
export function voiceActivity(samples: Float32Array, sampleRateHz: number, options: VoiceActivityOptions = {}): VoiceActivity {
  const { frameS, floorDbfs, relativeDb, minContrastDb } = { ...VAD_DEFAULTS, ...options };
  if (!(sampleRateHz > 0 && Number.isFinite(sampleRateHz))) {
    throw new SerError('EARG', 'vad', `sampleRateHz must be a positive number (${sampleRateHz} given)`);
  }
  const frameLength = Math.round(frameS * sampleRateHz);
  if (!(frameLength >= 1)) throw new SerError('EARG', 'vad', `frameS ${frameS} s is shorter than one sample at ${sampleRateHz} Hz`);
  const levelsDbfs = frameLevelsDbfs(samples, frameLength);
  const frames = levelsDbfs.length;
  let peakDbfs = SILENCE_DBFS;
  for (const level of levelsDbfs) if (level > peakDbfs) peakDbfs = level;
  const contrastDb = frames === 0 ? 0 : peakDbfs - percentile(levelsDbfs, 0.1);
  const active = new Uint8Array(frames);
  let count = 0;
  if (contrastDb >= minContrastDb) {
    const threshold = Math.max(floorDbfs, peakDbfs - relativeDb);
    for (let i = 0; i < frames; i++) {
      if ((levelsDbfs[i] as number) >= threshold) {
        active[i] = 1;
        count++;
      }
    }
  }
  return {
    frameS: frameLength / sampleRateHz,
    levelsDbfs,
    active,
    peakDbfs,
    contrastDb,
    speechS: (count * frameLength) / sampleRateHz,
    durationS: samples.length / sampleRateHz,
  };
}

/**
 * RMS level in dBFS of consecutive frames of `frameLength` samples; a trailing partial frame is kept when at
 * least half full (its mean is over the samples it has). Sums in float64.
 */
export function frameLevelsDbfs(samples: Float32Array, frameLength: number): Float32Array {
  const whole = Math.floor(samples.length / frameLength);
  const frames = whole + (samples.length - whole * frameLength >= frameLength / 2 ? 1 : 0);
  const levels = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * frameLength;
    const end = Math.min(start + frameLength, samples.length);
    let sum = 0;
    for (let i = start; i < end; i++) sum += (samples[i] as number) ** 2;
    levels[f] = 10 * Math.log10(sum / (end - start) + 1e-20);
  }
  return levels;
}

/** The q-quantile (0..1) of `values`, nearest rank. */
function percentile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export interface AssessOptions extends VoiceActivityOptions {
  /** Shortest recording judged, seconds (default 0.5). */
  minDurationS?: number;
  /** Least voice-active time a recording needs, seconds (default 0.25). */
  minSpeechS?: number;
}

export const ASSESS_DEFAULTS = Object.freeze({ minDurationS: 0.5, minSpeechS: 0.25 });

export type AudioFlag = 'no_speech' | 'too_short';

/** The verdict on a recording: usable, flagged (no emotion should be reported), or an error (unusable samples). */
export type AudioAssessment =
  | { kind: 'ok'; activity: VoiceActivity }
  | { kind: 'flagged'; flag: AudioFlag; reason: string; activity: VoiceActivity }
  | { kind: 'error'; error: SerError };

/**
 * The verdict on mono `samples` (rule in the module comment). `source` names the audio in the error and reason.
 * Never throws for bad samples: an EAUDIO SerError is returned in `error` (throw it, or report it per file).
 */
export function assessAudio(samples: Float32Array, sampleRateHz: number, source: string, options: AssessOptions = {}): AudioAssessment {
  const sampleError = checkSampleValues(samples, sampleRateHz, source);
  if (sampleError) return { kind: 'error', error: sampleError };
  const { minDurationS, minSpeechS } = { ...ASSESS_DEFAULTS, ...options };
  const activity = voiceActivity(samples, sampleRateHz, options);
  const { floorDbfs, minContrastDb } = { ...VAD_DEFAULTS, ...options };
  if (activity.durationS < minDurationS) {
    return {
      kind: 'flagged',
      flag: 'too_short',
      reason: `${activity.durationS.toFixed(3)} s of audio; at least ${minDurationS} s is needed to judge an emotion`,
      activity,
    };
  }
  if (activity.speechS < minSpeechS) {
    const why =
      activity.peakDbfs < floorDbfs
        ? `the loudest ${Math.round(activity.frameS * 1000)} ms is ${formatDb(activity.peakDbfs)} dBFS, below the ${floorDbfs} dBFS speech floor (silence or faint noise)`
        : activity.contrastDb < minContrastDb
          ? `the level varies by only ${activity.contrastDb.toFixed(1)} dB (steady noise or a tone, not speech: speech varies by ${minContrastDb} dB or more)`
          : `only ${activity.speechS.toFixed(2)} s is voice-active (${minSpeechS} s needed)`;
    return { kind: 'flagged', flag: 'no_speech', reason: `no speech found: ${why}`, activity };
  }
  return { kind: 'ok', activity };
}

function formatDb(db: number): string {
  return db <= SILENCE_DBFS ? '-inf' : db.toFixed(1);
}

/**
 * EAUDIO when there is nothing to use (0 samples), a sample is NaN or infinite, or |x| > MAX_ABS_SAMPLE; null
 * when every sample is usable. The message names `source`, the first bad sample and its time.
 */
export function checkSampleValues(samples: Float32Array, sampleRateHz: number, source: string): SerError | null {
  if (samples.length === 0) {
    return new SerError('EAUDIO', 'load', `${source}: the file holds 0 samples (an empty recording); remove it or re-export it`);
  }
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i] as number;
    if (Number.isFinite(x) && Math.abs(x) <= MAX_ABS_SAMPLE) continue;
    let nonFinite = 0;
    let huge = 0;
    for (let j = i; j < samples.length; j++) {
      const y = samples[j] as number;
      if (!Number.isFinite(y)) nonFinite++;
      else if (Math.abs(y) > MAX_ABS_SAMPLE) huge++;
    }
    const shown = Number.isFinite(x) ? x.toExponential(2) : String(x);
    const at = `sample ${i} (at ${(i / sampleRateHz).toFixed(3)} s) is ${shown}`;
    const counts = [
      nonFinite > 0 ? `${nonFinite} of ${samples.length} samples are NaN or infinite` : '',
      huge > 0 ? `${huge} of ${samples.length} samples are beyond ±${MAX_ABS_SAMPLE} (+96 dBFS)` : '',
    ].filter((s) => s !== '');
    return new SerError(
      'EAUDIO',
      'load',
      `${source}: ${at}; ${counts.join(', ')}: not audio (corrupt float data; full scale is ±1); fix or remove the file`,
    );
  }
  return null;
}
