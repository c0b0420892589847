/**
 * resample == torchaudio.functional.resample (defaults) on the golden speech at 8, 22.05, 44.1 and 48 kHz,
 * plus hand-derived properties: output length, a pure tone keeps its frequency, DC gain, bad rates.
 * Measured max abs errors vs torchaudio 0.13 (float32): 8k 1.2e-7, 22.05k 8.3e-6, 44.1k 2.8e-6, 48k 3.0e-7.
 * And the WebAssembly SIMD kernel resample() runs equals the TypeScript resampleRange bit for bit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { KERNELS, compileKernel, kernelModuleText } from '../../scripts/build-wasm.js';
import { RESAMPLE_KERNEL_WASM_BASE64 } from '../../src/audio/resample-kernel-wasm.js';
import { resample, resampleEngine, resampleKernel, resampleRange } from '../../src/audio/resample.js';
import { SerError } from '../../src/errors.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { hasShared, maxAbsDiff, repoRoot, sharedDir } from '../helpers.js';

const TOLERANCE = 1e-4;

describe('resample: torchaudio golden parity', { skip: hasShared ? false : 'needs ../shared/golden' }, () => {
  const golden = hasShared ? readSafetensors(join(sharedDir, 'golden', 'resample.safetensors')) : null;
  for (const rate of [8000, 22050, 44100, 48000]) {
    it(`${rate} Hz -> 16 kHz within ${TOLERANCE} max abs`, () => {
      const input = golden!.tensors.get(`in/${rate}`)!.data as Float32Array;
      const expected = golden!.tensors.get(`out/${rate}_to_16000`)!.data as Float32Array;
      const actual = resample(input, rate, 16000);
      assert.equal(actual.length, expected.length);
      const error = maxAbsDiff(actual, expected);
      assert.ok(error <= TOLERANCE, `max abs error ${error}`);
    });
  }
});

describe('resample: properties', () => {
  it('output length is ceil(length * to / from)', () => {
    assert.equal(resample(new Float32Array(441), 44100, 16000).length, 160);
    assert.equal(resample(new Float32Array(442), 44100, 16000).length, 161);
    assert.equal(resample(new Float32Array(7), 8000, 16000).length, 14);
    assert.equal(resample(new Float32Array(10), 48000, 16000).length, 4);
  });

  it('equal rates return an equal copy', () => {
    const x = Float32Array.from([0.1, -0.2, 0.3]);
    const y = resample(x, 16000, 16000);
    assert.deepEqual(y, x);
    assert.notEqual(y, x);
  });

  it('a 1 kHz tone at 48 kHz stays a 1 kHz tone at 16 kHz (away from the edges)', () => {
    const x = new Float32Array(48000);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 1000 * i) / 48000);
    const y = resample(x, 48000, 16000);
    let error = 0;
    for (let i = 200; i < y.length - 200; i++) error = Math.max(error, Math.abs(y[i]! - Math.sin((2 * Math.PI * 1000 * i) / 16000)));
    // rolloff 0.99 with a 6-zero-crossing Hann-windowed sinc passes 1 kHz with < 0.5% ripple.
    assert.ok(error < 5e-3, `max deviation ${error}`);
  });

  it('a tone above the new Nyquist is removed (anti-aliasing)', () => {
    const x = new Float32Array(48000);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 12000 * i) / 48000);
    const y = resample(x, 48000, 16000);
    let peak = 0;
    for (let i = 200; i < y.length - 200; i++) peak = Math.max(peak, Math.abs(y[i]!));
    assert.ok(peak < 0.01, `residual ${peak}`);
  });

  it('equals a dense transcription of torchaudio 0.13 (_get_sinc_resample_kernel + conv1d) for several rate pairs', () => {
    // Independent of the compact polyphase code: the dense [new, 2 width + orig] kernel, zero padding, stride orig.
    const dense = (x: Float32Array, from: number, to: number): Float64Array => {
      let [a, b] = [from, to];
      while (b) [a, b] = [b, a % b];
      const orig = from / a;
      const nw = to / a;
      const base = Math.min(orig, nw) * 0.99;
      const width = Math.ceil((6 * orig) / base);
      const taps = 2 * width + orig;
      const padded = new Float64Array(x.length + 2 * width + orig);
      padded.set(x, width);
      const out = new Float64Array(Math.ceil((nw * x.length) / orig));
      for (let o = 0; o < out.length; o++) {
        const block = Math.floor(o / nw);
        const j = o % nw;
        let sum = 0;
        for (let k = 0; k < taps; k++) {
          const t = Math.min(6, Math.max(-6, ((k - width) / orig - j / nw) * base));
          const kernel = (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t)) * Math.cos((Math.PI * t) / 12) ** 2 * (base / orig);
          sum += kernel * padded[block * orig + k]!;
        }
        out[o] = sum;
      }
      return out;
    };
    const x = Float32Array.from({ length: 700 }, (_, i) => Math.sin(0.05 * i) + 0.3 * Math.cos(1.7 * i));
    for (const [from, to] of [
      [44100, 16000],
      [8000, 16000],
      [7, 5],
      [22051, 16000],
      [16000, 22050],
    ] as const) {
      assert.ok(maxAbsDiff(resample(x, from, to), dense(x, from, to)) < 1e-6, `${from} -> ${to}`);
    }
  });

  it('coprime rates (22051 Hz) stay cheap: one second resamples in well under a second', () => {
    const x = Float32Array.from({ length: 22051 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 22051));
    const start = performance.now();
    const y = resample(x, 22051, 16000);
    assert.equal(y.length, 16000);
    assert.ok(performance.now() - start < 2000, `${performance.now() - start} ms`);
    let error = 0;
    for (let i = 200; i < y.length - 200; i++) error = Math.max(error, Math.abs(y[i]! - Math.sin((2 * Math.PI * 440 * i) / 16000)));
    assert.ok(error < 5e-3, `max deviation ${error}`);
  });

  it('rejects non-integer and non-positive rates with EARG', () => {
    for (const [from, to] of [
      [44100.5, 16000],
      [0, 16000],
      [16000, -1],
      [Number.NaN, 16000],
    ] as const) {
      assert.throws(
        () => resample(new Float32Array(4), from, to),
        (error: unknown) => error instanceof SerError && error.code === 'EARG' && /positive integer .* given/.test(error.message),
      );
    }
  });
});

describe('resample: WebAssembly SIMD kernel == TypeScript resampleRange, bit for bit', () => {
  /** A deterministic test signal: two tones and noise. */
  function signal(length: number): Float32Array {
    let state = 11;
    return Float32Array.from({ length }, (_, i) => {
      state = (state * 1103515245 + 12345) >>> 0;
      return 0.5 * Math.sin(0.031 * i) + 0.3 * Math.sin(1.3 * i) + 0.1 * (state / 2 ** 32 - 0.5);
    });
  }

  it('runs the kernel (Node 20 validates WebAssembly SIMD)', () => {
    assert.equal(resampleEngine(), 'wasm-simd');
  });

  // Rate pairs down, up and coprime; lengths shorter than the kernel, odd, and over several 16384-output chunks.
  for (const [from, to] of [
    [44100, 16000],
    [48000, 16000],
    [8000, 16000],
    [22051, 16000],
    [16000, 44100],
  ] as const) {
    it(`${from} -> ${to} Hz`, () => {
      for (const length of [1, 5, 333, 48_000, 150_001]) {
        const x = signal(length);
        const actual = resample(x, from, to);
        const expected = new Float32Array(actual.length);
        resampleRange(resampleKernel(from, to), Float64Array.from(x), 0, length, 0, expected);
        const at = actual.findIndex((v, i) => !Object.is(v, expected[i]));
        assert.equal(at, -1, `${length} samples: first difference at ${at}: ${actual[at]} vs ${expected[at]}`);
      }
    });
  }

  const hasAsc = existsSync(join(repoRoot, 'node_modules', 'assemblyscript', 'bin', 'asc.js'));
  it('the embedded module is what npm run build:wasm compiles from wasm/resample-kernel.ts', {
    skip: hasAsc ? false : 'needs the assemblyscript dev dependency',
  }, () => {
    const kernel = KERNELS.resample;
    assert.equal(kernelModuleText(kernel, compileKernel(kernel)), kernelModuleText(kernel, RESAMPLE_KERNEL_WASM_BASE64));
  });
});
