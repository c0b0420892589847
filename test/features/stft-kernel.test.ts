/**
 * The WebAssembly SIMD kernel (src/features/stft-kernel.ts), float32, against the TypeScript loops it mirrors, the
 * float64 reference: for every configuration the kernel takes (nFft a power of two) and for the clip edges
 * (reflected frames, frames past the end, clips shorter than a frame) and clips over several output chunks
 * (CHUNK frames). Tolerances (measured 2026-12-04 in brackets):
 * - mel power: |wasm - ts| <= 1e-6 x the clip's peak power, every bin (<= 3.3e-7);
 * - dB (logMel, top_db 80): |wasm - ts| <= 1e-3 dB wherever the power is within 80 dB of the clip's peak (<= 7.2e-4,
 *   at a one-sample clip's faintest bins; <= 1.7e-4 on longer clips); silence exactly -100 dB in both.
 * The kernel's float32 logarithm against Math.log, and the embedded module against what the kept source compiles to.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KERNELS, compileKernel, kernelModuleText } from '../../scripts/build-wasm.js';
import { type FrontEndConfig, LogMelFrontEnd } from '../../src/features/index.js';
import { STFT_KERNEL_WASM_BASE64 } from '../../src/features/stft-kernel-wasm.js';
import { instantiateKernel } from '../../src/features/wasm-kernel.js';
import { repoRoot } from '../helpers.js';

/** A deterministic test clip: two tones and noise. */
function clip(length: number, seed = 7): Float32Array {
  let state = seed;
  const noise = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return Float32Array.from({ length }, (_, i) => 0.4 * Math.sin(0.05 * i) + 0.2 * Math.sin(0.71 * i) + 0.1 * noise());
}

const POWER_TOLERANCE = 1e-6; // x clip peak
const DB_TOLERANCE = 1e-3; // dB, within DB_RANGE of the clip's peak power
const DB_RANGE = 1e-8;

describe('stft kernel: WebAssembly SIMD (float32) vs TypeScript (float64)', () => {
  const configs: Array<[string, Partial<FrontEndConfig>]> = [
    ['default (n_fft 1024, win 512, hop 256)', {}],
    [
      'n_fft 512, win 400, hop 160, Slaney bank',
      { nFft: 512, winLength: 400, hopLength: 160, melScale: 'slaney', norm: 'slaney', nMels: 64 },
    ],
    ['n_fft 2048, win 2048, hop 512', { nFft: 2048, winLength: 2048, hopLength: 512, nMels: 80 }],
    ['n_fft 256, win 255 (odd window start), hop 100', { nFft: 256, winLength: 255, hopLength: 100, nMels: 40 }],
  ];
  for (const [name, config] of configs) {
    it(name, () => {
      const wasm = new LogMelFrontEnd(config);
      const ts = new LogMelFrontEnd(config, { engine: 'typescript' });
      assert.equal(wasm.engine, 'wasm-simd', 'Node 20 validates WebAssembly SIMD');
      assert.equal(ts.engine, 'typescript');
      for (const length of [48000, 16000 * 5 + 77, 16000 * 11 + 5, 3000, 300, 1]) {
        const samples = clip(length);
        const a = wasm.melPower(samples);
        const b = ts.melPower(samples);
        assert.deepEqual([a.nMels, a.frames], [b.nMels, b.frames]);
        const peak = b.data.reduce((max, v) => Math.max(max, v), 0);
        const powerError = a.data.reduce((max, v, i) => Math.max(max, Math.abs(v - b.data[i]!)), 0);
        assert.ok(
          powerError <= POWER_TOLERANCE * peak,
          `${length} samples: max |power error| ${powerError} > ${POWER_TOLERANCE} x peak ${peak}`,
        );
        const dbA = wasm.logMel(samples).data;
        const dbB = ts.logMel(samples).data;
        let dbError = 0;
        for (let i = 0; i < dbB.length; i++) if (b.data[i]! > DB_RANGE * peak) dbError = Math.max(dbError, Math.abs(dbA[i]! - dbB[i]!));
        assert.ok(dbError <= DB_TOLERANCE, `${length} samples: max dB error ${dbError}`);
      }
      const silence = new Float32Array(5000);
      assert.ok(wasm.logMel(silence).data.every((v) => v === -100));
      assert.ok(ts.logMel(silence).data.every((v) => v === -100));
    });
  }

  it('nFft 400 (radix 5) runs the TypeScript block', () => {
    assert.equal(new LogMelFrontEnd({ nFft: 400, winLength: 400, hopLength: 160 }).engine, 'typescript');
  });
});

describe('stft kernel: decibels (float32 logarithm)', () => {
  const kernel = instantiateKernel()!;
  const count = 1 << 16;
  /** Runs the kernel's decibels on `values` (count a multiple of 4); returns its output and its maximum. */
  function decibels(values: ArrayLike<number>): { db: Float32Array; max: number } {
    const at = kernel.memory.buffer.byteLength;
    kernel.memory.grow(Math.ceil((values.length * 4) / 65536));
    const view = new Float32Array(kernel.memory.buffer, at, values.length);
    view.set(values);
    const max = kernel.decibels(at, values.length);
    return { db: Float32Array.from(view), max };
  }

  it('is within 2e-7 x max(1, |dB|) of 10 log10(max(x, 1e-10)) over positive normal float32 (1.7e-7 measured)', () => {
    let state = 1;
    const bits = Uint32Array.from({ length: count }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return 0x00800000 + (state % (0x7f800000 - 0x00800000)); // every positive normal float32
    });
    const x = new Float32Array(bits.buffer);
    const { db } = decibels(x);
    let worst = 0;
    for (let i = 0; i < count; i++) {
      const expected = 10 * Math.log10(Math.max(x[i]!, 1e-10));
      worst = Math.max(worst, Math.abs(db[i]! - expected) / Math.max(1, Math.abs(expected)));
    }
    assert.ok(worst <= 2e-7, `worst relative error ${worst}`);
  });

  it('hand-derived values: silence and amin -100 dB, powers of ten, NaN and Infinity kept; the maximum ignores NaN', () => {
    const { db, max } = decibels([0, 1e-12, Math.fround(1e-10), 1, 10, 1e4, Number.NaN, 1e-3]);
    assert.deepEqual([...db.subarray(0, 3)], [-100, -100, -100]);
    for (const [i, expected] of [
      [3, 0],
      [4, 10],
      [5, 40],
      [7, -30],
    ] as const)
      assert.ok(Math.abs(db[i]! - expected) <= 1e-5, `${db[i]} vs ${expected}`);
    assert.ok(Number.isNaN(db[6]!));
    assert.ok(Math.abs(max - 40) <= 1e-5, `max ${max}`);
    assert.deepEqual([...decibels([Number.POSITIVE_INFINITY, 1, 1, 1]).db], [Number.POSITIVE_INFINITY, 0, 0, 0]);
  });
});

describe('stft kernel: embedded module', () => {
  it('decodes to a WebAssembly binary of 2-4 KB (synchronous compilation stays under browsers 4 KB limit)', () => {
    const bytes = Uint8Array.from(atob(STFT_KERNEL_WASM_BASE64), (c) => c.charCodeAt(0));
    assert.deepEqual([...bytes.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
    assert.ok(bytes.length < 4096, `${bytes.length} bytes`);
  });
  const hasAsc = existsSync(join(repoRoot, 'node_modules', 'assemblyscript', 'bin', 'asc.js'));
  it('is what npm run build:wasm compiles from wasm/stft-kernel.ts', {
    skip: hasAsc ? false : 'needs the assemblyscript dev dependency',
  }, () => {
    assert.equal(kernelModuleText(KERNELS.stft, compileKernel(KERNELS.stft)), kernelModuleText(KERNELS.stft, STFT_KERNEL_WASM_BASE64));
  });
});
