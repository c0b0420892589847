/**
 * From decoded audio to the model's input signal, without the file system (usable in browsers after any
 * decoder, e.g. decodeAudio or WebAudio's decodeAudioData): mono mixdown (mean over channels), a check that
 * every sample is finite and not absurdly large, resampling to `sampleRateHz` (torchaudio's resample). load.ts adds the file reading.
 */
import type { DecodedAudio } from './decode.js';
import { resample } from './resample.js';
import { checkSampleValues } from './vad.js';

export interface LoadOptions {
  /** Output sample rate in Hz (default 16000, the model's rate). */
  sampleRateHz?: number;
  /**
   * Seconds needed from the start (default: all). loadAudio then reads only what they need from WAV and AIFF files
   * (headers, then that range of samples, plus 1 s so resampling sees the same neighbours as in the whole file):
   * memory does not grow with the file. Compressed files are decoded whole. The samples returned may run past maxS.
   */
  maxS?: number;
}

export interface LoadedAudio {
  /** Mono samples at `sampleRateHz`. */
  samples: Float32Array;
  sampleRateHz: number;
  /** Sample rate stored in the file, before resampling. */
  sourceSampleRateHz: number;
  /** Channel count stored in the file, before the mono mixdown. */
  sourceChannels: number;
  /** DecodedAudio.format, e.g. 'wav/pcm16', 'flac'. */
  format: string;
  /** samples.length / sampleRateHz. */
  durationS: number;
  /** DecodedAudio.warnings (e.g. a truncated file decoded as far as it goes); empty when none. */
  warnings: string[];
}

export const DEFAULT_SAMPLE_RATE_HZ = 16000;

/**
 * Mixes channels down to mono by averaging them, sample by sample: torchaudio's `waveform.mean(dim=0)`.
 * Sums in float64 and rounds once; for two channels this equals float32 (a + b) / 2 exactly.
 * A single channel is returned as is (not copied).
 */
export function toMono(channels: Float32Array[]): Float32Array {
  const first = channels[0];
  if (!first) return new Float32Array(0);
  if (channels.length === 1) return first;
  const out = new Float32Array(first.length);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (const channel of channels) sum += channel[i] as number;
    out[i] = sum / channels.length;
  }
  return out;
}

/**
 * The in-memory half of loadAudio (no file system: usable in browsers after decodeAudio): mono mixdown,
 * validation, resampling. `source` names the audio in errors.
 */
export function fromDecoded(decoded: DecodedAudio, source: string, options: LoadOptions = {}): LoadedAudio {
  const sampleRateHz = options.sampleRateHz ?? DEFAULT_SAMPLE_RATE_HZ;
  const mono = toMono(decoded.channels);
  validateSamples(mono, decoded.sampleRateHz, source);
  const samples = decoded.sampleRateHz === sampleRateHz ? mono : resample(mono, decoded.sampleRateHz, sampleRateHz);
  return {
    samples,
    sampleRateHz,
    sourceSampleRateHz: decoded.sampleRateHz,
    sourceChannels: decoded.channels.length,
    format: decoded.format,
    durationS: samples.length / sampleRateHz,
    warnings: decoded.warnings ?? [],
  };
}

/**
 * EAUDIO when there is nothing to use (0 samples), a sample is NaN or infinite, or one is absurdly large
 * (|x| > 2^16 full scale; vad.ts checkSampleValues states the rule).
 */
export function validateSamples(samples: Float32Array, sampleRateHz: number, source: string): void {
  const error = checkSampleValues(samples, sampleRateHz, source);
  if (error) throw error;
}
