/**
 * The front end's WebAssembly SIMD kernel (wasm/stft-kernel.ts, AssemblyScript; embedded as base64 in
 * stft-kernel-wasm.ts by `npm run build:wasm`), loaded through src/io/wasm.ts. Used by stft-kernel.ts; where
 * WebAssembly or its SIMD is missing, instantiateKernel returns null and the TypeScript loops, the reference, run.
 */
import { type EmbeddedExports, instantiateEmbedded } from '../io/wasm.js';
import { STFT_KERNEL_WASM_BASE64 } from './stft-kernel-wasm.js';

/** The kernel's exports (wasm/stft-kernel.ts); every pointer is a byte offset into `memory`. */
export interface KernelExports extends EmbeddedExports {
  radix4(xr: number, xi: number, yr: number, yi: number, twr: number, twi: number, m: number, s: number): void;
  radix4Last(xr: number, xi: number, yr: number, yi: number, s: number): void;
  radix2(xr: number, xi: number, yr: number, yi: number, twr: number, twi: number, m: number, s: number): void;
  splitPower(zr: number, zi: number, twr: number, twi: number, power: number, half: number, batch: number): void;
  melBank(
    power: number,
    first: number,
    end: number,
    offset: number,
    weights: number,
    mel: number,
    nMels: number,
    batch: number,
    stride: number,
  ): void;
  decibels(values: number, count: number): number;
  frameBlock(
    samples: number,
    window: number,
    re: number,
    im: number,
    start: number,
    end: number,
    half: number,
    hop: number,
    count: number,
    batch: number,
  ): void;
}

/** A new instance of the kernel (its own memory, 1 page to start), or null where it cannot run. */
export function instantiateKernel(): KernelExports | null {
  return instantiateEmbedded<KernelExports>(STFT_KERNEL_WASM_BASE64);
}
