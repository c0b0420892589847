/**
 * The log-mel front end: waveform -> STFT power -> mel filter bank -> dB, equal to
 *     torchaudio.transforms.MelSpectrogram(sample_rate, n_fft, win_length, hop_length, f_min, f_max, n_mels,
 *                                          mel_scale, norm, window_fn=hann_window, center=True,
 *                                          pad_mode='reflect', power=2)(x)
 *     then AmplitudeToDB('power', top_db)(mel[None])[0]
 * Steps and shapes for a clip of L samples, frames T = 1 + floor(L / hop), bins F = nFft / 2 + 1, bands M = nMels:
 *     1. reflect-pad nFft / 2 samples on each side                              [L + 2 (nFft / 2)]
 *     2. frame t = padded[t hop .. t hop + nFft) * window (Hann(win) centred)    [T, nFft]
 *     3. power[t, f] = |rfft(frame t)[f]|^2                                      [T, F]
 *     4. mel[m, t] = sum_f power[t, f] * filterBank.matrix[f, m]                [M, T]
 *     5. dB = 10 log10(max(mel, 1e-10)), optional per-clip top_db clamp       [M, T]
 * Steps 1-5 (but the clamp) run 16 frames at a time (BLOCK, stft-kernel.ts): in the WebAssembly SIMD kernel, in
 * float32, where nFft is a power of two; else in TypeScript, in float64 (the reference). The two agree within the
 * tolerances stated in test/features/stft-kernel.test.ts.
 * Parity with torchaudio 0.13 (float32) on ../shared/golden/melspec.safetensors is stated in
 * test/features/golden.test.ts. The precomputed pieces (window, filter bank, windowed DFT basis) are public so
 * the ONNX graph emitter uses these same numbers: one definition of the front end.
 */
import { SerError } from '../errors.js';
import { type FrontEndConfig, framesForSamples, resolveFrontEnd } from './config.js';
import { clampTopDb } from './db.js';
import { RealFft } from './fft.js';
import { type MelFilterBank, melFilterBank } from './mel.js';
import { BLOCK, CHUNK, type StftBlock, stftBlock } from './stft-kernel.js';
import { hannWindow, padWindowCentered } from './window.js';

/** A (log-)mel spectrogram: `data` is [nMels, frames] row-major (band m, frame t at m * frames + t). */
export interface Spectrogram {
  readonly data: Float32Array;
  readonly nMels: number;
  readonly frames: number;
}

/** One configured front end; it keeps scratch buffers, so use one instance per thread (calls are synchronous). */
export class LogMelFrontEnd {
  readonly config: FrontEndConfig;
  /** Periodic Hann window of winLength, zero-padded (centred) to nFft. [nFft] */
  readonly window: Float64Array;
  readonly filterBank: MelFilterBank;
  private readonly fft: RealFft;
  private readonly block: StftBlock;

  /**
   * `config` overrides DEFAULT_FRONT_END field by field; invalid values throw SerError EARG listing every problem.
   * `options.engine: 'typescript'` skips the WebAssembly kernel (float64, the reference; for tests).
   */
  constructor(config: Partial<FrontEndConfig> = {}, options: { engine?: 'typescript' } = {}) {
    this.config = resolveFrontEnd(config);
    const { nFft, winLength, sampleRateHz, nMels, fMinHz, fMaxHz, melScale, norm } = this.config;
    this.window = padWindowCentered(hannWindow(winLength), nFft);
    const windowStart = Math.floor((nFft - winLength) / 2);
    this.fft = new RealFft(nFft);
    this.filterBank = melFilterBank({ nFreqs: this.fft.bins, nMels, sampleRateHz, fMinHz, fMaxHz, melScale, norm });
    const framing = { window: this.window, windowStart, windowEnd: windowStart + winLength, hopLength: this.config.hopLength };
    this.block = stftBlock(this.fft, this.filterBank, framing, options.engine);
  }

  /** Which implementation runs the STFT blocks: 'wasm-simd' or 'typescript' (stft-kernel.ts). */
  get engine(): 'wasm-simd' | 'typescript' {
    return this.block.engine;
  }

  /** Number of one-sided frequency bins, nFft / 2 + 1. */
  get nFreqs(): number {
    return this.fft.bins;
  }

  /** Frames for a clip of `lengthSamples`: 1 + floor(length / hop). */
  framesFor(lengthSamples: number): number {
    return framesForSamples(lengthSamples, this.config);
  }

  /** Mel power spectrogram [nMels, frames] (MelSpectrogram, power 2). */
  melPower(samples: Float32Array): Spectrogram {
    return this.spectrogram(samples, false).spectrogram;
  }

  /** Log-mel spectrogram [nMels, frames] in dB (AmplitudeToDB 'power', amin 1e-10, optional per-clip top_db). */
  logMel(samples: Float32Array): Spectrogram {
    const { spectrogram, maxDb } = this.spectrogram(samples, true);
    if (this.config.topDb !== null) clampTopDb(spectrogram.data, this.config.topDb, maxDb);
    return spectrogram;
  }

  /** Mel power, or with `decibels` dB before the top_db clamp and the largest dB (db.ts). */
  private spectrogram(samples: Float32Array, decibels: boolean): { spectrogram: Spectrogram; maxDb: number } {
    const { nFft, hopLength, nMels } = this.config;
    if (samples.length === 0) throw new SerError('EAUDIO', 'features', 'cannot compute a spectrogram of 0 samples');
    const frames = this.framesFor(samples.length);
    const pad = Math.floor(nFft / 2);
    const { block } = this;
    const out = new Float32Array(nMels * frames);
    let maxDb = Number.NEGATIVE_INFINITY;
    // Frame t covers padded[t hop .. t hop + nFft) = samples[t hop - pad ..]. Chunks of up to CHUNK frames, each in
    // blocks of BLOCK; the last block's frames past the clip's end are zero (silence, -100 dB: no dB is lower, so
    // they never raise the maximum) and not copied out.
    for (let c0 = 0; c0 < frames; c0 += CHUNK) {
      const n = Math.min(CHUNK, frames - c0);
      const width = Math.ceil(n / BLOCK) * BLOCK;
      for (let t0 = c0; t0 < c0 + n; t0 += BLOCK) {
        block.frame(samples, t0 * hopLength - pad, Math.min(BLOCK, frames - t0));
        block.run(t0 - c0, width);
      }
      if (decibels) maxDb = Math.max(maxDb, block.decibels(width));
      const output = block.output;
      for (let m = 0; m < nMels; m++) out.set(output.subarray(m * width, m * width + n), m * frames + c0);
    }
    return { spectrogram: { data: out, nMels, frames }, maxDb };
  }

  /**
   * The STFT as a matrix product, for graph targets (ONNX MatMul): frame [nFft] @ basis [nFft, nFreqs] gives the
   * real and imaginary parts of the windowed one-sided DFT, real[n, f] = window[n] cos(2 pi n f / nFft),
   * imag[n, f] = -window[n] sin(2 pi n f / nFft). power = real^2 + imag^2, then @ filterBank.matrix.
   */
  windowedDftBasis(): { real: Float32Array; imag: Float32Array; shape: [number, number] } {
    const { nFft } = this.config;
    const nFreqs = this.nFreqs;
    const real = new Float32Array(nFft * nFreqs);
    const imag = new Float32Array(nFft * nFreqs);
    for (let n = 0; n < nFft; n++) {
      const w = this.window[n]!;
      for (let f = 0; f < nFreqs; f++) {
        const angle = (2 * Math.PI * ((n * f) % nFft)) / nFft;
        real[n * nFreqs + f] = w * Math.cos(angle);
        imag[n * nFreqs + f] = -w * Math.sin(angle);
      }
    }
    return { real, imag, shape: [nFft, nFreqs] };
  }
}
