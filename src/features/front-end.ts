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
 * Steps 2-4 run 16 frames at a time (BLOCK, stft-kernel.ts): in the WebAssembly SIMD kernel where nFft is a power
 * of two, else in TypeScript, with the same float64 operations and so the same bits.
 * Parity with torchaudio 0.13 (float32) on ../shared/golden/melspec.safetensors is stated in
 * test/features/golden.test.ts. The precomputed pieces (window, filter bank, windowed DFT basis) are public so
 * the ONNX graph emitter uses these same numbers: one definition of the front end.
 */
import { SerError } from '../errors.js';
import { type FrontEndConfig, framesForSamples, resolveFrontEnd } from './config.js';
import { powerToDb } from './db.js';
import { RealFft } from './fft.js';
import { type MelFilterBank, melFilterBank } from './mel.js';
import { BLOCK, type StftBlock, stftBlock } from './stft-kernel.js';
import { hannWindow, padWindowCentered } from './window.js';

/** A (log-)mel spectrogram: `data` is [nMels, frames] row-major (band m, frame t at m * frames + t). */
export interface Spectrogram {
  readonly data: Float32Array;
  readonly nMels: number;
  readonly frames: number;
}

/**
 * Index into a signal of `length` samples for position `i` (may be outside), mirroring at the ends without
 * repeating the edge sample (torch 'reflect': x[-1] = x[1]). torch refuses pads longer than the signal; we keep
 * reflecting back and forth (numpy's np.pad 'reflect'), so clips shorter than nFft / 2 still give a spectrogram.
 */
export function reflectIndex(i: number, length: number): number {
  if (length === 1) return 0;
  const period = 2 * (length - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < length ? j : period - j;
}

/** One configured front end; it keeps scratch buffers, so use one instance per thread (calls are synchronous). */
export class LogMelFrontEnd {
  readonly config: FrontEndConfig;
  /** Periodic Hann window of winLength, zero-padded (centred) to nFft. [nFft] */
  readonly window: Float64Array;
  readonly filterBank: MelFilterBank;
  private readonly fft: RealFft;
  private readonly windowStart: number;
  private readonly windowEnd: number;
  private readonly block: StftBlock;

  /**
   * `config` overrides DEFAULT_FRONT_END field by field; invalid values throw SerError EARG listing every problem.
   * `options.engine: 'typescript'` skips the WebAssembly kernel (the results are the same bit for bit; for tests).
   */
  constructor(config: Partial<FrontEndConfig> = {}, options: { engine?: 'typescript' } = {}) {
    this.config = resolveFrontEnd(config);
    const { nFft, winLength, sampleRateHz, nMels, fMinHz, fMaxHz, melScale, norm } = this.config;
    this.window = padWindowCentered(hannWindow(winLength), nFft);
    this.windowStart = Math.floor((nFft - winLength) / 2);
    this.windowEnd = this.windowStart + winLength;
    this.fft = new RealFft(nFft);
    this.filterBank = melFilterBank({ nFreqs: this.fft.bins, nMels, sampleRateHz, fMinHz, fMaxHz, melScale, norm });
    const framing = { window: this.window, windowStart: this.windowStart, windowEnd: this.windowEnd, hopLength: this.config.hopLength };
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
    const { nFft, hopLength, nMels } = this.config;
    const length = samples.length;
    if (length === 0) throw new SerError('EAUDIO', 'features', 'cannot compute a spectrogram of 0 samples');
    const frames = this.framesFor(length);
    const pad = Math.floor(nFft / 2);
    const { block, windowStart, windowEnd } = this;
    const { re, im } = block;
    const packed = nFft % 2 === 0;
    const out = new Float32Array(nMels * frames);
    // Frames go through the FFT in blocks of BLOCK, interleaved (sample n of frame b at n * BLOCK + b).
    for (let t0 = 0; t0 < frames; t0 += BLOCK) {
      const count = Math.min(BLOCK, frames - t0);
      // Frame t covers padded[t hop .. t hop + nFft) = samples[t hop - pad ..]; frames past the end stay zero.
      const origin = t0 * hopLength - pad;
      const allInside = count === BLOCK && origin + windowStart >= 0 && origin + (BLOCK - 1) * hopLength + windowEnd <= length;
      if (allInside && packed && windowStart % 2 === 0 && windowEnd % 2 === 0) {
        block.frameInside(samples, origin);
      } else {
        // Zero every input row holding a sample outside the window's support, then write the windowed samples.
        const rows = packed ? nFft / 2 : nFft;
        const zeroBelow = (packed ? (windowStart + 1) >> 1 : windowStart) * BLOCK;
        const zeroFrom = (packed ? windowEnd >> 1 : windowEnd) * BLOCK;
        for (const buffer of [re, im]) {
          buffer.fill(0, 0, zeroBelow);
          buffer.fill(0, zeroFrom, rows * BLOCK);
        }
        if (!packed) im.fill(0, 0, rows * BLOCK);
        for (let b = 0; b < BLOCK; b++) this.writeFrame(samples, origin + b * hopLength, b < count, b);
      }
      block.run();
      const mel = block.mel;
      for (let m = 0; m < nMels; m++) {
        for (let b = 0, from = m * BLOCK, to = m * frames + t0; b < count; b++) out[to + b] = mel[from + b]!;
      }
    }
    return { data: out, nMels, frames };
  }

  /**
   * Writes frame `b` of the block into the FFT's input: the windowed samples from `origin` (reflected at the clip's
   * ends), or zeros for a frame past the clip's last (`live` false).
   */
  private writeFrame(samples: Float32Array, origin: number, live: boolean, b: number): void {
    const { window, windowStart, windowEnd } = this;
    const { re, im } = this.block;
    const packed = this.config.nFft % 2 === 0;
    const length = samples.length;
    const inside = origin + windowStart >= 0 && origin + windowEnd <= length;
    if (live && inside && packed && windowStart % 2 === 0 && windowEnd % 2 === 0) {
      // Unrolled: samples n, n + 1 go to row n / 2 of re and im.
      for (let n = windowStart, at = (windowStart >> 1) * BLOCK + b; n < windowEnd; n += 2, at += BLOCK) {
        re[at] = samples[origin + n]! * window[n]!;
        im[at] = samples[origin + n + 1]! * window[n + 1]!;
      }
      return;
    }
    for (let n = windowStart; n < windowEnd; n++) {
      const x = !live ? 0 : inside ? samples[origin + n]! : samples[reflectIndex(origin + n, length)]!;
      const value = x * window[n]!;
      if (!packed) re[n * BLOCK + b] = value;
      else if ((n & 1) === 0) re[(n >> 1) * BLOCK + b] = value;
      else im[(n >> 1) * BLOCK + b] = value;
    }
  }

  /** Log-mel spectrogram [nMels, frames] in dB (AmplitudeToDB 'power', amin 1e-10, optional per-clip top_db). */
  logMel(samples: Float32Array): Spectrogram {
    const mel = this.melPower(samples);
    return { data: powerToDb(mel.data, this.config.topDb), nMels: mel.nMels, frames: mel.frames };
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
