/**
 * Band-limited sinc resampling, equal to `torchaudio.functional.resample(x, fromHz, toHz)` with its defaults
 * (`resampling_method='sinc_interp_hann'`, `lowpass_filter_width=6`, `rolloff=0.99`), torchaudio 0.13
 * `_get_sinc_resample_kernel` + `_apply_sinc_resample_kernel`.
 *
 * The rates are reduced by their gcd to `orig = fromHz / g` input and `new = toHz / g` output samples per block.
 * With `base = min(orig, new) * rolloff` (the anti-aliasing cut-off, in units of the reduced rates),
 * `width = ceil(lowpassFilterWidth * orig / base)` and `L = lowpassFilterWidth`, output phase `j` (0 <= j < new)
 * has the kernel, for k = 0 .. 2*width + orig - 1:
 *
 *     t      = clamp(base * ((k - width) / orig - j / new), -L, L)
 *     h[j,k] = (base / orig) * sinc(pi * t) * cos(pi * t / (2 L))^2          (sinc(0) = 1; 0 where |t| = L)
 *
 * and the output is `y[b*new + j] = sum_k h[j,k] * x[b*orig + k - width]` (x zero outside the signal; torchaudio
 * pads `width` zeros on the left and `width + orig` on the right and runs conv1d with stride `orig`), cropped to
 * `ceil(new * length / orig)` samples. torchaudio computes the kernel in the waveform's dtype (float32); we compute
 * it and accumulate in float64, then round the output to float32: parity with the torch golden files is
 * <= 1e-4 max abs error (test/audio/resample.test.ts states the measured errors). resample() runs the sum in a
 * WebAssembly SIMD kernel (wasm/resample-kernel.ts) where the engine has it, bit-identical to resampleRange.
 */
import { SerError } from '../errors.js';
import { type EmbeddedExports, WASM_PAGE, ensureMemory, instantiateEmbedded } from '../io/wasm.js';
import { RESAMPLE_KERNEL_WASM_BASE64 } from './resample-kernel-wasm.js';

const LOWPASS_FILTER_WIDTH = 6;
const ROLLOFF = 0.99;

/**
 * A polyphase kernel, stored compactly: phase j's nonzero taps are first[j] .. first[j] + count[j] - 1, their
 * weights at weights[offset[j] ..]. (torchaudio keeps the dense [new, 2 width + orig] matrix; for coprime rates
 * such as 22051 -> 16000 that is 16000 x 22065 values, while each phase has only ~2 L orig / base nonzero taps.)
 */
export interface PolyphaseKernel {
  readonly orig: number;
  readonly new: number;
  readonly width: number;
  readonly weights: Float64Array;
  readonly offset: Int32Array; // [new]
  readonly first: Int32Array; // [new]
  readonly count: Int32Array; // [new]
}

const kernelCache = new Map<string, PolyphaseKernel>();

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new SerError('EARG', 'resample', `${name} must be a positive integer number of Hz (${value} given)`);
  }
}

/** The torchaudio sinc-Hann kernel for `fromHz -> toHz` (formula in the file comment), cached per rate pair. */
function polyphaseKernel(fromHz: number, toHz: number): PolyphaseKernel {
  const key = `${fromHz}->${toHz}`;
  const cached = kernelCache.get(key);
  if (cached) return cached;
  const g = gcd(fromHz, toHz);
  const orig = fromHz / g;
  const newRate = toHz / g;
  const lpw = LOWPASS_FILTER_WIDTH;
  const base = Math.min(orig, newRate) * ROLLOFF;
  const width = Math.ceil((lpw * orig) / base);
  const taps = 2 * width + orig;
  const scale = base / orig;
  const reach = (lpw * orig) / base; // |t| < L  <=>  |k - width - j orig / new| < reach
  const offset = new Int32Array(newRate);
  const first = new Int32Array(newRate);
  const count = new Int32Array(newRate);
  const rows: number[][] = [];
  let total = 0;
  for (let j = 0; j < newRate; j++) {
    const centre = width + (j * orig) / newRate;
    const row: number[] = [];
    let lo = -1;
    // One tap of slack on each side; the exact |t| < L test below decides.
    for (let k = Math.max(0, Math.floor(centre - reach) - 1); k <= Math.min(taps - 1, Math.ceil(centre + reach) + 1); k++) {
      const t = ((k - width) / orig - j / newRate) * base;
      // Where torchaudio clamps t to +-L, both sinc(pi L) and cos(pi / 2)^2 are 0 in exact arithmetic (float
      // rounding leaves ~1e-15 there): those taps are 0, and each phase only runs over its unclamped taps.
      if (Math.abs(t) >= lpw) continue;
      if (lo < 0) lo = k;
      while (lo + row.length < k) row.push(0);
      const window = Math.cos((t * Math.PI) / lpw / 2) ** 2;
      const x = t * Math.PI;
      row.push((x === 0 ? 1 : Math.sin(x) / x) * window * scale);
    }
    offset[j] = total;
    first[j] = Math.max(lo, 0);
    count[j] = row.length;
    total += row.length;
    rows.push(row);
  }
  const weights = new Float64Array(total);
  rows.forEach((row, j) => {
    weights.set(row, offset[j]!);
  });
  const kernel: PolyphaseKernel = { orig, new: newRate, width, weights, offset, first, count };
  if (kernelCache.size >= 16) kernelCache.clear();
  kernelCache.set(key, kernel);
  return kernel;
}

/**
 * Resamples mono `samples` from `fromHz` to `toHz` (both positive integers) like torchaudio.functional.resample
 * with its defaults. Output length `ceil(samples.length * toHz / fromHz)`; equal rates return a copy.
 */
export function resample(samples: Float32Array, fromHz: number, toHz: number): Float32Array {
  checkRate('fromHz', fromHz);
  checkRate('toHz', toHz);
  if (fromHz === toHz) return samples.slice();
  const kernel = polyphaseKernel(fromHz, toHz);
  const length = samples.length;
  // ceil(new * length / orig) in integer arithmetic (exact for any realistic length).
  const out = new Float32Array(Math.floor((kernel.new * length + kernel.orig - 1) / kernel.orig));
  if (!wasmResampler()?.run(kernel, samples, out)) resampleRange(kernel, Float64Array.from(samples), 0, length, 0, out);
  return out;
}

/** Which implementation resample() runs: the WebAssembly SIMD kernel where the engine has it, else TypeScript. */
export function resampleEngine(): 'wasm-simd' | 'typescript' {
  return wasmResampler() === null ? 'typescript' : 'wasm-simd';
}

/** The kernel of `fromHz -> toHz` (positive integers; EARG otherwise), for resampleRange. */
export function resampleKernel(fromHz: number, toHz: number): PolyphaseKernel {
  checkRate('fromHz', fromHz);
  checkRate('toHz', toHz);
  return polyphaseKernel(fromHz, toHz);
}

/** Input samples [first, last] that output sample `o` reads (its phase's nonzero taps). */
export function inputSpan(kernel: PolyphaseKernel, o: number): { first: number; last: number } {
  const j = o % kernel.new;
  const start = ((o - j) / kernel.new) * kernel.orig - kernel.width + kernel.first[j]!;
  return { first: start, last: start + kernel.count[j]! - 1 };
}

/**
 * Output samples `fromOut .. fromOut + out.length - 1` of resampling a signal of `length` samples (input beyond it
 * is zero; pass the length known so far when every tap read is inside it), whose samples `xOrigin ..` are in `x`.
 * The one definition of the sum, shared by resample() and the streaming resampler (src/stream), which therefore
 * give the same float32 samples.
 */
export function resampleRange(
  kernel: PolyphaseKernel,
  x: Float64Array,
  xOrigin: number,
  length: number,
  fromOut: number,
  out: Float32Array,
): void {
  const { orig, new: newRate, width, weights, offset, first, count } = kernel;
  // Output o = block * new + j (phase j) reads from input block * orig - width + first[j] on.
  let j = fromOut % newRate;
  let blockStart = ((fromOut - j) / newRate) * orig - width;
  for (let i = 0; i < out.length; i++, j++) {
    if (j === newRate) {
      j = 0;
      blockStart += orig;
    }
    // Tap i of phase j reads input index start + i; taps outside the signal are skipped (torchaudio's zero padding).
    const start = blockStart + first[j]!;
    const w0 = offset[j]! - start;
    const from = Math.max(start, 0);
    const to = Math.min(start + count[j]!, length);
    // Four accumulators: shorter dependency chains (2.3 -> 2.1 ms CPU for 3 s at 44.1 kHz; one is 3.5).
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let n = from;
    for (; n + 3 < to; n += 4) {
      a0 += weights[w0 + n]! * x[n - xOrigin]!;
      a1 += weights[w0 + n + 1]! * x[n + 1 - xOrigin]!;
      a2 += weights[w0 + n + 2]! * x[n + 2 - xOrigin]!;
      a3 += weights[w0 + n + 3]! * x[n + 3 - xOrigin]!;
    }
    for (; n < to; n++) a0 += weights[w0 + n]! * x[n - xOrigin]!;
    out[i] = a0 + a1 + (a2 + a3);
  }
}

/** The kernel's exports (wasm/resample-kernel.ts); every array is a byte offset into `memory`. */
interface ResampleExports extends EmbeddedExports {
  resampleRange(
    weights: number,
    offset: number,
    first: number,
    count: number,
    orig: number,
    newRate: number,
    width: number,
    x: number,
    xOrigin: number,
    length: number,
    fromOut: number,
    out: number,
    outLength: number,
  ): void;
}

/** Output samples per kernel call: bounds the instance's memory (a chunk's input span) whatever the signal's length. */
const CHUNK = 16384;

/**
 * resampleRange in the WebAssembly kernel. Memory: the polyphase kernel last used (weights, offset, first, count),
 * then one chunk's input span (float64) and output (float32); the span is copied in chunk by chunk.
 */
class WasmResampler {
  private loaded: PolyphaseKernel | null = null;
  private tables = { weights: 0, offset: 0, first: 0, count: 0, end: 0 };

  constructor(private readonly wasm: ResampleExports) {}

  /** Resamples `samples` into `out` (its whole length); false where the engine refuses the memory it needs. */
  run(kernel: PolyphaseKernel, samples: Float32Array, out: Float32Array): boolean {
    if (kernel !== this.loaded && !this.load(kernel)) return false;
    const { orig, new: newRate, width } = kernel;
    const taps = 2 * width + orig;
    const { weights, offset, first, count, end } = this.tables;
    for (let o = 0; o < out.length; o += CHUNK) {
      const n = Math.min(CHUNK, out.length - o);
      // Outputs of blocks b0 .. b1 read input b * orig - width + k, k < taps (resampleRange); beyond the signal is zero.
      const b0 = Math.floor(o / newRate);
      const b1 = Math.floor((o + n - 1) / newRate);
      const from = Math.max(0, b0 * orig - width);
      const to = Math.min(samples.length, b1 * orig - width + taps);
      const span = Math.max(0, to - from);
      const outAt = end + span * 8;
      if (!ensureMemory(this.wasm, outAt + n * 4)) return false;
      const buffer = this.wasm.memory.buffer;
      new Float64Array(buffer, end, span).set(samples.subarray(from, from + span));
      this.wasm.resampleRange(weights, offset, first, count, orig, newRate, width, end, from, samples.length, o, outAt, n);
      out.set(new Float32Array(buffer, outAt, n), o);
    }
    return true;
  }

  /** Copies `kernel`'s tables into memory (from the first page on: the module has no data of its own). */
  private load(kernel: PolyphaseKernel): boolean {
    this.loaded = null;
    const base = WASM_PAGE; // the module's first page (its static data, empty) is left alone
    const weights = base;
    const offset = weights + kernel.weights.length * 8;
    const first = offset + kernel.new * 4;
    const count = first + kernel.new * 4;
    const end = Math.ceil((count + kernel.new * 4) / 16) * 16;
    if (!ensureMemory(this.wasm, end)) return false;
    const buffer = this.wasm.memory.buffer;
    new Float64Array(buffer, weights, kernel.weights.length).set(kernel.weights);
    new Int32Array(buffer, offset, kernel.new).set(kernel.offset);
    new Int32Array(buffer, first, kernel.new).set(kernel.first);
    new Int32Array(buffer, count, kernel.new).set(kernel.count);
    this.tables = { weights, offset, first, count, end };
    this.loaded = kernel;
    return true;
  }
}

let resampler: WasmResampler | null | undefined;

/** This realm's kernel instance (created on first use), or null where WebAssembly SIMD is missing. */
function wasmResampler(): WasmResampler | null {
  if (resampler === undefined) {
    const wasm = instantiateEmbedded<ResampleExports>(RESAMPLE_KERNEL_WASM_BASE64);
    resampler = wasm === null ? null : new WasmResampler(wasm);
  }
  return resampler;
}
