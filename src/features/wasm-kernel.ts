/**
 * The front end's WebAssembly SIMD kernel (wasm/stft-kernel.ts, AssemblyScript; embedded as base64 in
 * stft-kernel-wasm.ts by `npm run build:wasm`): compiled once, one instance (own memory) per user. Used by
 * stft-kernel.ts; where WebAssembly or its SIMD is missing, instantiateKernel returns null and the TypeScript
 * loops, the reference, run instead.
 */
import { STFT_KERNEL_WASM_BASE64 } from './stft-kernel-wasm.js';

/** WebAssembly's page size, bytes. */
export const PAGE = 65536;

/** The kernel's exports (wasm/stft-kernel.ts); every pointer is a byte offset into `memory`. */
export interface KernelExports {
  readonly memory: { buffer: ArrayBuffer; grow(pages: number): number };
  radix4(xr: number, xi: number, yr: number, yi: number, twr: number, twi: number, m: number, s: number): void;
  radix4Last(xr: number, xi: number, yr: number, yi: number, s: number): void;
  radix2(xr: number, xi: number, yr: number, yi: number, twr: number, twi: number, m: number, s: number): void;
  splitPower(zr: number, zi: number, twr: number, twi: number, power: number, half: number, batch: number): void;
  melBank(power: number, first: number, end: number, offset: number, weights: number, mel: number, nMels: number, batch: number): void;
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

// The few WebAssembly JS API members used here (the project's type libraries, ES2023 and node, do not declare them).
declare const WebAssembly:
  | undefined
  | {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: unknown };
    };

let compiled: object | null | undefined;

/** The kernel's module, compiled once (synchronously: ~3 KB, under browsers' 4 KB main-thread limit), or null if unsupported. */
function kernelModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (typeof WebAssembly === 'undefined' || typeof atob !== 'function') return compiled;
  try {
    compiled = new WebAssembly.Module(Uint8Array.from(atob(STFT_KERNEL_WASM_BASE64), (c) => c.charCodeAt(0)));
  } catch {
    // No SIMD (or no WebAssembly compilation allowed here): the TypeScript loops do the work.
  }
  return compiled;
}

/** A new instance of the kernel (its own memory, 1 page to start), or null where it cannot run. */
export function instantiateKernel(): KernelExports | null {
  const module = kernelModule();
  return module === null ? null : (new WebAssembly!.Instance(module, {}).exports as KernelExports);
}
