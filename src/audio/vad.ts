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
  const frameLength = vadFrameLength(sampleRateHz, options);
  return activityOfLevels(frameLevelsDbfs(samples, frameLength), frameLength, samples.length, sampleRateHz, options);
}

/** Samples per VAD frame at `sampleRateHz` (EARG for a rate or frame length that cannot be used). */
function vadFrameLength(sampleRateHz: number, options: VoiceActivityOptions): number {
  const { frameS } = { ...VAD_DEFAULTS, ...options };
  if (!(sampleRateHz > 0 && Number.isFinite(sampleRateHz))) {
    throw new SerError('EARG', 'vad', `sampleRateHz must be a positive number (${sampleRateHz} given)`);
  }
  const frameLength = Math.round(frameS * sampleRateHz);
  if (!(frameLength >= 1)) throw new SerError('EARG', 'vad', `frameS ${frameS} s is shorter than one sample at ${sampleRateHz} Hz`);
  return frameLength;
}

/** The VoiceActivity of a recording of `length` samples from its frame levels (the rule in the module comment). */
function activityOfLevels(
  levelsDbfs: Float32Array,
  frameLength: number,
  length: number,
  sampleRateHz: number,
  options: VoiceActivityOptions,
): VoiceActivity {
  const { floorDbfs, relativeDb, minContrastDb } = { ...VAD_DEFAULTS, ...options };
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
    durationS: length / sampleRateHz,
  };
}

/**
 * RMS level in dBFS of consecutive frames of `frameLength` samples; a trailing partial frame is kept when at
 * least half full (its mean is over the samples it has). Sums in float64.
 */
export function frameLevelsDbfs(samples: Float32Array, frameLength: number): Float32Array {
  const meter = new FrameLevelMeter(frameLength);
  meter.push(samples);
  return meter.finish();
}

/**
 * frameLevelsDbfs of a signal that arrives in chunks of any size: the same levels, float for float (each frame's
 * sum of squares runs over its samples in order, in float64, across chunk boundaries). Memory: 4 bytes per frame.
 */
export class FrameLevelMeter {
  private readonly frameLength: number;
  private levels = new Float32Array(1024);
  private count = 0;
  /** Sum of squares and sample count of the frame being filled. */
  private sum = 0;
  private filled = 0;

  constructor(frameLength: number) {
    this.frameLength = frameLength;
  }

  push(samples: Float32Array): void {
    const frameLength = this.frameLength;
    let sum = this.sum;
    let filled = this.filled;
    for (let i = 0; i < samples.length; i++) {
      sum += (samples[i] as number) ** 2;
      if (++filled === frameLength) {
        this.append(sum, filled);
        sum = 0;
        filled = 0;
      }
    }
    this.sum = sum;
    this.filled = filled;
  }

  /** The levels of all frames, a trailing partial frame included when at least half full. */
  finish(): Float32Array {
    if (this.filled > 0 && this.filled >= this.frameLength / 2) this.append(this.sum, this.filled);
    this.sum = 0;
    this.filled = 0;
    return this.levels.slice(0, this.count);
  }

  private append(sum: number, samples: number): void {
    if (this.count === this.levels.length) {
      const grown = new Float32Array(this.levels.length * 2);
      grown.set(this.levels);
      this.levels = grown;
    }
    this.levels[this.count++] = 10 * Math.log10(sum / samples + 1e-20);
  }
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
  const assessor = new AudioAssessor(sampleRateHz, source, options);
  assessor.push(samples);
  return assessor.finish();
}

/**
 * assessAudio of a recording that arrives in chunks of any size (a long file read window by window): the same
 * verdict and reason as on the whole recording, holding only the frame levels (4 bytes per 20 ms).
 */
export class AudioAssessor {
  private readonly sampleRateHz: number;
  private readonly options: AssessOptions;
  private readonly frameLength: number;
  private readonly check: SampleValueCheck;
  private readonly meter: FrameLevelMeter;
  private length = 0;

  constructor(sampleRateHz: number, source: string, options: AssessOptions = {}) {
    this.sampleRateHz = sampleRateHz;
    this.options = options;
    this.frameLength = vadFrameLength(sampleRateHz, options);
    this.check = new SampleValueCheck(sampleRateHz, source);
    this.meter = new FrameLevelMeter(this.frameLength);
  }

  push(samples: Float32Array): void {
    this.check.push(samples);
    this.meter.push(samples);
    this.length += samples.length;
  }

  /** The verdict on everything pushed. */
  finish(): AudioAssessment {
    const sampleError = this.check.result();
    if (sampleError) return { kind: 'error', error: sampleError };
    const { sampleRateHz, options } = this;
    return verdictOf(activityOfLevels(this.meter.finish(), this.frameLength, this.length, sampleRateHz, options), options);
  }
}

function verdictOf(activity: VoiceActivity, options: AssessOptions): AudioAssessment {
  const { minDurationS, minSpeechS } = { ...ASSESS_DEFAULTS, ...options };
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
  const check = new SampleValueCheck(sampleRateHz, source);
  check.push(samples);
  return check.result();
}

/** checkSampleValues of a recording that arrives in chunks of any size: the same error, message included. */
export class SampleValueCheck {
  private readonly sampleRateHz: number;
  private readonly source: string;
  private length = 0;
  /** Index and value of the first unusable sample (-1: none yet), and the counts of each kind. */
  private firstBad = -1;
  private firstValue = 0;
  private nonFinite = 0;
  private huge = 0;

  constructor(sampleRateHz: number, source: string) {
    this.sampleRateHz = sampleRateHz;
    this.source = source;
  }

  push(samples: Float32Array): void {
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i] as number;
      if (Number.isFinite(x) && Math.abs(x) <= MAX_ABS_SAMPLE) continue;
      if (this.firstBad < 0) {
        this.firstBad = this.length + i;
        this.firstValue = x;
      }
      if (!Number.isFinite(x)) this.nonFinite++;
      else this.huge++;
    }
    this.length += samples.length;
  }

  /** Whether an unusable sample has been seen (the error is certain; its counts grow until the end). */
  get failed(): boolean {
    return this.firstBad >= 0;
  }

  /** The error for everything pushed, or null when every sample is usable. */
  result(): SerError | null {
    const { source, length } = this;
    if (length === 0) {
      return new SerError('EAUDIO', 'load', `${source}: the file holds 0 samples (an empty recording); remove it or re-export it`);
    }
    if (this.firstBad < 0) return null;
    const x = this.firstValue;
    const shown = Number.isFinite(x) ? x.toExponential(2) : String(x);
    const at = `sample ${this.firstBad} (at ${(this.firstBad / this.sampleRateHz).toFixed(3)} s) is ${shown}`;
    const counts = [
      this.nonFinite > 0 ? `${this.nonFinite} of ${length} samples are NaN or infinite` : '',
      this.huge > 0 ? `${this.huge} of ${length} samples are beyond ±${MAX_ABS_SAMPLE} (+96 dBFS)` : '',
    ].filter((s) => s !== '');
    return new SerError(
      'EAUDIO',
      'load',
      `${source}: ${at}; ${counts.join(', ')}: not audio (corrupt float data; full scale is ±1); fix or remove the file`,
    );
  }
}
