/**
 * One block of the front end's STFT: `BLOCK` frames of the clip in, their mel power (or dB) out. Two
 * implementations of the same loops:
 * - `WasmBlock`: the WebAssembly SIMD kernel (wasm/stft-kernel.ts, embedded in stft-kernel-wasm.ts), float32, four
 *   frames per f32x4 vector, from framing to dB. Within stated tolerances of `TsBlock` (power 1e-6 of the clip's
 *   peak, dB 1e-3 within 80 dB of it: test/features/stft-kernel.test.ts; torchaudio computes in float32 too). Used
 *   where nFft is a power of two (FFT radices 4 and 2) and the engine validates SIMD (Node 16.4+, current browsers).
 * - `TsBlock`: RealFft, the sparse mel loop and db.ts in TypeScript, float64; the reference, and the fallback for
 *   any other nFft (e.g. torchaudio's default 400) or an engine without WebAssembly SIMD.
 * Both read the window, twiddles and mel bank from the TypeScript definitions (window.ts, fft.ts, mel.ts): the
 * kernel holds no constant of its own but the logarithm's.
 */
import { decibelsInPlace } from './db.js';
import type { RealFft } from './fft.js';
import type { MelFilterBank } from './mel.js';
import { WASM_PAGE } from '../io/wasm.js';
import { type KernelExports, instantiateKernel } from './wasm-kernel.js';

/** Frames per block: long enough for the butterfly loops, small enough for the L2 cache (2 x 512 x 16 x 8 B x 2 in float64). */
export const BLOCK = 16;
/** Frames per chunk of output (a multiple of BLOCK): the blocks' mel goes to a [nMels, CHUNK] buffer, copied out by rows. */
export const CHUNK = 512;

/** The block interface LogMelFrontEnd drives. */
export interface StftBlock {
  /** Output of run() for a chunk of `width` frames: [nMels, width] (band m, frame c at m * width + c); capacity CHUNK. */
  readonly output: Float32Array | Float64Array;
  /** 'wasm-simd' or 'typescript', for benchmarks and tests. */
  readonly engine: 'wasm-simd' | 'typescript';
  /**
   * Writes the block's frames into the FFT's input: frame b < count is samples[origin + b hop + n], n < nFft,
   * reflected at the clip's ends (reflectIndex), times the window; frames b >= count (past the clip's end) are zero.
   */
  frame(samples: Float32Array, origin: number, count: number): void;
  /** Transforms the framed block: power spectra, then its mel power into columns column .. column + BLOCK - 1 of output. */
  run(column: number, width: number): void;
  /** The chunk's mel power -> dB in place (db.ts, before the top_db clamp), output's first nMels x width values; returns the largest. */
  decibels(width: number): number;
}

/** How frames are cut: the window [nFft] (zero outside [windowStart, windowEnd)) and the hop, in samples. */
export interface Framing {
  readonly window: Float64Array;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly hopLength: number;
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

/**
 * The kernel's mel bank for the frames of a block: mel[m, column + b] = sum_f weight[m, f] power[f, b] over band m's
 * bins, mel [nMels, width].
 */
function melBankTs(bank: MelFilterBank, power: Float64Array, mel: Float64Array, column: number, width: number): void {
  const { nMels, firstBin, endBin, weights, weightOffset } = bank;
  for (let m = 0; m < nMels; m++) {
    const first = firstBin[m]!;
    const offset = weightOffset[m]! - first;
    const row = m * width + column;
    mel.fill(0, row, row + BLOCK);
    for (let f = first, end = endBin[m]!; f < end; f++) {
      const weight = weights[offset + f]!;
      const at = f * BLOCK;
      for (let b = 0; b < BLOCK; b++) mel[row + b] = mel[row + b]! + weight * power[at + b]!;
    }
  }
}

/** The TypeScript block: its own framing, RealFft.powerSpectraInPlace, melBankTs, then db.ts. */
export class TsBlock implements StftBlock {
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly packed: boolean;
  readonly output: Float64Array;
  readonly engine = 'typescript';
  private readonly power: Float64Array;

  constructor(
    private readonly fft: RealFft,
    private readonly bank: MelFilterBank,
    private readonly framing: Framing,
  ) {
    ({ re: this.re, im: this.im, packed: this.packed } = fft.inputBuffers(BLOCK));
    this.power = new Float64Array(fft.bins * BLOCK);
    this.output = new Float64Array(bank.nMels * CHUNK);
  }

  frame(samples: Float32Array, origin: number, count: number): void {
    const { re, im, packed } = this;
    const { window, windowStart, windowEnd, hopLength } = this.framing;
    const nFft = window.length;
    const inside = origin + windowStart >= 0 && origin + (BLOCK - 1) * hopLength + windowEnd <= samples.length;
    if (count === BLOCK && inside && packed && windowStart % 2 === 0 && windowEnd % 2 === 0) {
      // The common case, every frame inside the clip: row by row, so that the stores are consecutive and the
      // window read once.
      const half = nFft / 2;
      re.fill(0, 0, (windowStart >> 1) * BLOCK);
      im.fill(0, 0, (windowStart >> 1) * BLOCK);
      re.fill(0, (windowEnd >> 1) * BLOCK, half * BLOCK);
      im.fill(0, (windowEnd >> 1) * BLOCK, half * BLOCK);
      for (let n = windowStart; n < windowEnd; n += 2) {
        const w0 = window[n]!;
        const w1 = window[n + 1]!;
        const row = (n >> 1) * BLOCK;
        for (let b = 0, at = origin + n; b < BLOCK; b++, at += hopLength) {
          re[row + b] = samples[at]! * w0;
          im[row + b] = samples[at + 1]! * w1;
        }
      }
      return;
    }
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

  /**
   * Writes frame `b` of the block into the FFT's input: the windowed samples from `origin` (reflected at the clip's
   * ends), or zeros for a frame past the clip's last (`live` false).
   */
  private writeFrame(samples: Float32Array, origin: number, live: boolean, b: number): void {
    const { re, im, packed } = this;
    const { window, windowStart, windowEnd } = this.framing;
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

  run(column: number, width: number): void {
    this.fft.powerSpectraInPlace(BLOCK, this.power);
    melBankTs(this.bank, this.power, this.output, column, width);
  }

  decibels(width: number): number {
    return decibelsInPlace(this.output.subarray(0, this.bank.nMels * width));
  }
}

/** The WebAssembly block: the same buffers as TsBlock, in float32, laid out in one instance's memory, plus the block's span of the clip. */
export class WasmBlock implements StftBlock {
  readonly output: Float32Array;
  readonly engine = 'wasm-simd';
  private readonly kernel: KernelExports;
  private readonly calls: Array<() => void> = [];
  private readonly samples: Float32Array; // the block's span of the clip, for frameBlock
  private readonly frameCall: (count: number) => void;
  private readonly melCall: (column: number, width: number) => void;
  private readonly decibelsCall: (width: number) => number;

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
    const data = half * BLOCK * 4;
    const [inRe, inIm, bufRe, bufIm] = [reserve(data), reserve(data), reserve(data), reserve(data)];
    const twiddles = fft.inner.stages.map((stage) => [reserve(stage.twRe.length * 4), reserve(stage.twIm.length * 4)] as const);
    const splitRe = reserve(fft.splitTwRe.length * 4);
    const splitIm = reserve(fft.splitTwIm.length * 4);
    const power = reserve(fft.bins * BLOCK * 4);
    const first = reserve(nMels * 4);
    const end = reserve(nMels * 4);
    const offset = reserve(nMels * 4);
    const weights = reserve(bank.weights.length * 4);
    const output = reserve(nMels * CHUNK * 4);
    const { window, windowStart, windowEnd, hopLength } = framing;
    const windowAt = reserve(window.length * 4);
    const span = (BLOCK - 1) * hopLength + window.length;
    const samplesAt = reserve(span * 4);
    this.kernel.memory.grow(Math.ceil((top - this.kernel.memory.buffer.byteLength) / WASM_PAGE));
    const buffer = this.kernel.memory.buffer;
    const f32 = (at: number, length: number) => new Float32Array(buffer, at, length);
    this.output = f32(output, nMels * CHUNK);
    this.samples = new Float32Array(buffer, samplesAt, span);
    f32(windowAt, window.length).set(window);
    fft.inner.stages.forEach((stage, i) => {
      f32(twiddles[i]![0], stage.twRe.length).set(stage.twRe);
      f32(twiddles[i]![1], stage.twIm.length).set(stage.twIm);
    });
    f32(splitRe, fft.splitTwRe.length).set(fft.splitTwRe);
    f32(splitIm, fft.splitTwIm.length).set(fft.splitTwIm);
    new Int32Array(buffer, first, nMels).set(bank.firstBin);
    new Int32Array(buffer, end, nMels).set(bank.endBin);
    new Int32Array(buffer, offset, nMels).set(bank.weightOffset);
    new Float32Array(buffer, weights, bank.weights.length).set(bank.weights);

    // The calls of one run, as ComplexFft.transformBatch orders them: Stockham stages ping-ponging between the
    // input and the scratch buffers, then the split into power spectra; then the mel bank (melCall).
    const k = this.kernel;
    // The window is zero outside [windowStart, windowEnd): its even-aligned cover frames the same products.
    const [start, stop] = [windowStart & ~1, (windowEnd + 1) & ~1];
    this.frameCall = (count) => k.frameBlock(samplesAt, windowAt, inRe, inIm, start, stop, half, hopLength, count, BLOCK);
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
    this.melCall = (column, width) => k.melBank(power, first, end, offset, weights, output + column * 4, nMels, BLOCK, width);
    this.decibelsCall = (width) => k.decibels(output, nMels * width);
  }

  frame(samples: Float32Array, origin: number, count: number): void {
    // The block's span of the clip, reflected where it passes an end (the kernel frames from this span).
    const span = this.samples;
    const length = samples.length;
    const head = Math.min(span.length, Math.max(0, -origin)); // positions before the clip's first sample
    const tail = Math.max(head, Math.min(span.length, length - origin)); // from here on, past its last
    for (let i = 0; i < head; i++) span[i] = samples[reflectIndex(origin + i, length)]!;
    if (tail > head) span.set(samples.subarray(origin + head, origin + tail), head);
    for (let i = tail; i < span.length; i++) span[i] = samples[reflectIndex(origin + i, length)]!;
    this.frameCall(count);
  }

  run(column: number, width: number): void {
    for (const call of this.calls) call();
    this.melCall(column, width);
  }

  decibels(width: number): number {
    return this.decibelsCall(width);
  }
}

/** The fastest block this engine runs for `fft` and `bank`; `engine: 'typescript'` forces the reference. */
export function stftBlock(fft: RealFft, bank: MelFilterBank, framing: Framing, engine?: 'typescript'): StftBlock {
  return (engine === undefined ? WasmBlock.create(fft, bank, framing) : null) ?? new TsBlock(fft, bank, framing);
}
