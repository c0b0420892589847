/**
 * The WebAssembly SIMD kernel (src/features/stft-kernel.ts) against the TypeScript loops it mirrors: the same
 * float64 operations in the same order, so the mel power must be equal bit for bit (tolerance 0), for every
 * configuration the kernel takes (nFft a power of two) and for the clip edges (reflected frames, frames past the
 * end, clips shorter than a frame), which mix TypeScript-written frames with kernel transforms. And the embedded
 * module must be what the kept source compiles to.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileKernel, kernelModuleText } from '../../scripts/build-wasm.js';
import { type FrontEndConfig, LogMelFrontEnd } from '../../src/features/index.js';
import { STFT_KERNEL_WASM_BASE64 } from '../../src/features/stft-kernel-wasm.js';
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

describe('stft kernel: WebAssembly SIMD == TypeScript, bit for bit', () => {
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
      for (const length of [48000, 16000 * 5 + 77, 3000, 300, 1]) {
        const samples = clip(length);
        const a = wasm.melPower(samples);
        const b = ts.melPower(samples);
        assert.equal(a.frames, b.frames);
        const at = a.data.findIndex((v, i) => !Object.is(v, b.data[i]));
        assert.equal(at, -1, `${length} samples: first difference at ${at}: ${a.data[at]} vs ${b.data[at]}`);
      }
    });
  }

  it('nFft 400 (radix 5) runs the TypeScript block', () => {
    assert.equal(new LogMelFrontEnd({ nFft: 400, winLength: 400, hopLength: 160 }).engine, 'typescript');
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
    assert.equal(kernelModuleText(compileKernel()), kernelModuleText(STFT_KERNEL_WASM_BASE64));
  });
});
