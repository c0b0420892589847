/**
 * One block of the front end's STFT: `BLOCK` windowed frames in, their mel power out. Two implementations of the
 * same loops on the same numbers:
 * - `WasmBlock`: the WebAssembly SIMD kernel (wasm/stft-kernel.ts, embedded in stft-kernel-wasm.ts), two frames per
 *   f64x2 vector. It runs the TypeScript loops' float64 operations in the same order (WebAssembly neither fuses nor
 *   reassociates), so its output is bit-identical to `TsBlock`'s (test/features/stft-kernel.test.ts). Used where
 *   nFft is a power of two (FFT radices 4 and 2) and the engine validates SIMD (Node 16.4+, current browsers).
 * - `TsBlock`: RealFft and the sparse mel loop in TypeScript; the reference, and the fallback for any other nFft
 *   (e.g. torchaudio's default 400) or an engine without WebAssembly SIMD.
 * Both read the window, twiddles and mel bank from the TypeScript definitions (window.ts, fft.ts, mel.ts): the
 * kernel holds no constant of its own.
 */
import type { RealFft } from './fft.js';
import type { MelFilterBank } from './mel.js';
import { PAGE, type KernelExports, instantiateKernel } from './wasm-kernel.js';

/** Frames per block: long enough for the butterfly loops, small enough for the L2 cache (2 x 512 x 16 x 8 B x 2). */
export const BLOCK = 16;

/** The block interface LogMelFrontEnd.melPower drives. */
export interface StftBlock {
  /** Packed input [nFft / 2, BLOCK]: sample n of frame b at (n even ? re : im)[(n >> 1) * BLOCK + b]. */
  readonly re: Float64Array;
  readonly im: Float64Array;
  /** Output of run(): mel power [nMels, BLOCK] (band m, frame b at m * BLOCK + b). */
  readonly mel: Float64Array;
  /** 'wasm-simd' or 'typescript', for benchmarks and tests. */
  readonly engine: 'wasm-simd' | 'typescript';
  /**
   * Writes the block's BLOCK frames, frame b = samples[origin + b hop ..] times the window, into re and im: the
   * common case of LogMelFrontEnd.melPower, every frame wholly inside the clip and the window's support
   * [windowStart, windowEnd) even-aligned; the rows outside it are zeroed.
   */
  frameInside(samples: Float32Array, origin: number): void;
  /** Transforms the frames written into re, im (and overwrites them): power spectra, then the mel bank. */
  run(): void;
}

/** How frames are cut: the window [nFft] (zero outside [windowStart, windowEnd)) and the hop, in samples. */
export interface Framing {
  readonly window: Float64Array;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly hopLength: number;
}

/** The kernel's mel bank for the frames of a block: mel[m, b] = sum_f weight[m, f] power[f, b] over band m's bins. */
function melBankTs(bank: MelFilterBank, power: Float64Array, mel: Float64Array): void {
  const { nMels, firstBin, endBin, weights, weightOffset } = bank;
  for (let m = 0; m < nMels; m++) {
    const first = firstBin[m]!;
    const offset = weightOffset[m]! - first;
    const row = m * BLOCK;
    mel.fill(0, row, row + BLOCK);
    for (let f = first, end = endBin[m]!; f < end; f++) {
      const weight = weights[offset + f]!;
      const at = f * BLOCK;
      for (let b = 0; b < BLOCK; b++) mel[row + b] = mel[row + b]! + weight * power[at + b]!;
    }
  }
}

/** The TypeScript block: RealFft.powerSpectraInPlace, then melBankTs. */
export class TsBlock implements StftBlock {
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly mel: Float64Array;
  readonly engine = 'typescript';
  private readonly power: Float64Array;

  constructor(
    private readonly fft: RealFft,
    private readonly bank: MelFilterBank,
    private readonly framing: Framing,
  ) {
    ({ re: this.re, im: this.im } = fft.inputBuffers(BLOCK));
    this.power = new Float64Array(fft.bins * BLOCK);
    this.mel = new Float64Array(bank.nMels * BLOCK);
  }

  frameInside(samples: Float32Array, origin: number): void {
    const { re, im } = this;
    const { window, windowStart, windowEnd, hopLength } = this.framing;
    const half = window.length / 2;
    re.fill(0, 0, (windowStart >> 1) * BLOCK);
    im.fill(0, 0, (windowStart >> 1) * BLOCK);
    re.fill(0, (windowEnd >> 1) * BLOCK, half * BLOCK);
    im.fill(0, (windowEnd >> 1) * BLOCK, half * BLOCK);
    // Row by row, so that the stores are consecutive and the window read once.
    for (let n = windowStart; n < windowEnd; n += 2) {
      const w0 = window[n]!;
      const w1 = window[n + 1]!;
      const row = (n >> 1) * BLOCK;
      for (let b = 0, at = origin + n; b < BLOCK; b++, at += hopLength) {
        re[row + b] = samples[at]! * w0;
        im[row + b] = samples[at + 1]! * w1;
      }
    }
  }

  run(): void {
    this.fft.powerSpectraInPlace(BLOCK, this.power);
    melBankTs(this.bank, this.power, this.mel);
  }
}

/** The WebAssembly block: the same buffers as TsBlock, laid out in one instance's memory. */
export class WasmBlock implements StftBlock {
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly mel: Float64Array;
  readonly engine = 'wasm-simd';
  private readonly kernel: KernelExports;
  private readonly calls: Array<() => void> = [];
  private readonly samples: Float32Array; // the block's span of the clip, for frameBlock
  private readonly frameCall: () => void;

  /** The WebAssembly block for this FFT and bank, or null where the kernel cannot run them (see the file comment). */
  static create(fft: RealFft, bank: MelFilterBank, framing: Framing): WasmBlock | null {
    const stages = fft.inner.stages;
    if (fft.size % 2 !== 0 || stages.some((stage) => stage.radix !== 2 && stage.radix !== 4)) return null;
    try {
      const kernel = instantiateKernel();
      return kernel === null ? null : new WasmBlock(kernel, fft, bank, framing);
    } catch {
      // The engine refused a new memory (each instance reserves address space): the TypeScript block runs.
      return null;
    }
  }

  private constructor(kernel: KernelExports, fft: RealFft, bank: MelFilterBank, framing: Framing) {
    this.kernel = kernel;
    const half = fft.size / 2;
    const { nMels } = bank;
    // Memory layout: everything 16-byte aligned (v128 loads); the kernel's own static data is empty.
    let top = this.kernel.memory.buffer.byteLength;
    const reserve = (bytes: number) => {
      const at = top;
      top += Math.ceil(bytes / 16) * 16;
      return at;
    };
    const data = half * BLOCK * 8;
    const [inRe, inIm, bufRe, bufIm] = [reserve(data), reserve(data), reserve(data), reserve(data)];
    const twiddles = fft.inner.stages.map((stage) => [reserve(stage.twRe.length * 8), reserve(stage.twIm.length * 8)] as const);
    const splitRe = reserve(fft.splitTwRe.length * 8);
    const splitIm = reserve(fft.splitTwIm.length * 8);
    const power = reserve(fft.bins * BLOCK * 8);
    const first = reserve(nMels * 4);
    const end = reserve(nMels * 4);
    const offset = reserve(nMels * 4);
    const weights = reserve(bank.weights.length * 4);
    const mel = reserve(nMels * BLOCK * 8);
    const { window, windowStart, windowEnd, hopLength } = framing;
    const windowAt = reserve(window.length * 8);
    const span = (BLOCK - 1) * hopLength + window.length;
    const samplesAt = reserve(span * 4);
    this.kernel.memory.grow(Math.ceil((top - this.kernel.memory.buffer.byteLength) / PAGE));
    const buffer = this.kernel.memory.buffer;
    const f64 = (at: number, length: number) => new Float64Array(buffer, at, length);
    this.re = f64(inRe, half * BLOCK);
    this.im = f64(inIm, half * BLOCK);
    this.mel = f64(mel, nMels * BLOCK);
    this.samples = new Float32Array(buffer, samplesAt, span);
    f64(windowAt, window.length).set(window);
    fft.inner.stages.forEach((stage, i) => {
      f64(twiddles[i]![0], stage.twRe.length).set(stage.twRe);
      f64(twiddles[i]![1], stage.twIm.length).set(stage.twIm);
    });
    f64(splitRe, fft.splitTwRe.length).set(fft.splitTwRe);
    f64(splitIm, fft.splitTwIm.length).set(fft.splitTwIm);
    new Int32Array(buffer, first, nMels).set(bank.firstBin);
    new Int32Array(buffer, end, nMels).set(bank.endBin);
    new Int32Array(buffer, offset, nMels).set(bank.weightOffset);
    new Float32Array(buffer, weights, bank.weights.length).set(bank.weights);

    // The calls of one run, as ComplexFft.transformBatch orders them: Stockham stages ping-ponging between the
    // input and the scratch buffers, then the split into power spectra, then the mel bank.
    const k = this.kernel;
    this.frameCall = () => k.frameBlock(samplesAt, windowAt, inRe, inIm, windowStart, windowEnd, half, hopLength, BLOCK);
    let [xr, xi, yr, yi] = [inRe, inIm, bufRe, bufIm];
    fft.inner.stages.forEach((stage, i) => {
      const [twr, twi] = twiddles[i]!;
      const [a, b, c, d] = [xr, xi, yr, yi];
      const s = stage.stride * BLOCK;
      if (stage.radix === 4 && stage.m === 1) this.calls.push(() => k.radix4Last(a, b, c, d, s));
      else if (stage.radix === 4) this.calls.push(() => k.radix4(a, b, c, d, twr, twi, stage.m, s));
      else this.calls.push(() => k.radix2(a, b, c, d, twr, twi, stage.m, s));
      [xr, yr] = [yr, xr];
      [xi, yi] = [yi, xi];
    });
    const [zr, zi] = [xr, xi];
    this.calls.push(() => k.splitPower(zr, zi, splitRe, splitIm, power, half, BLOCK));
    this.calls.push(() => k.melBank(power, first, end, offset, weights, mel, nMels, BLOCK));
  }

  frameInside(samples: Float32Array, origin: number): void {
    this.samples.set(samples.subarray(origin, origin + this.samples.length));
    this.frameCall();
  }

  run(): void {
    for (const call of this.calls) call();
  }
}

/** The fastest block this engine runs for `fft` and `bank`; `engine: 'typescript'` forces the reference. */
export function stftBlock(fft: RealFft, bank: MelFilterBank, framing: Framing, engine?: 'typescript'): StftBlock {
  return (engine === undefined ? WasmBlock.create(fft, bank, framing) : null) ?? new TsBlock(fft, bank, framing);
}
