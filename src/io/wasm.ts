/**
 * WebAssembly modules embedded in the package's JavaScript as base64 (`npm run build:wasm`, scripts/build-wasm.ts:
 * no .wasm file to locate at run time, in Node or behind a bundler): each compiled once, synchronously (each is
 * under browsers' 4 KB main-thread limit), one instance (own memory) per user. Where WebAssembly or its SIMD is
 * missing, instantiateEmbedded returns null and the callers run their TypeScript loops, the reference, instead.
 */

/** WebAssembly's page size, bytes. */
export const WASM_PAGE = 65536;

/** What every embedded module exports besides its functions: its memory, which the caller lays out. */
export interface EmbeddedExports {
  readonly memory: { buffer: ArrayBuffer; grow(pages: number): number };
}

// The few WebAssembly JS API members used here (the project's type libraries, ES2023 and node, do not declare them).
declare const WebAssembly:
  | undefined
  | {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: unknown };
    };

const compiled = new Map<string, object | null>();

/** The module of `base64`, compiled once, or null if this engine cannot compile it. */
function embeddedModule(base64: string): object | null {
  let module = compiled.get(base64);
  if (module !== undefined) return module;
  module = null;
  if (typeof WebAssembly !== 'undefined' && typeof atob === 'function') {
    try {
      module = new WebAssembly.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    } catch {
      // No SIMD (or no WebAssembly compilation allowed here): the TypeScript loops do the work.
    }
  }
  compiled.set(base64, module);
  return module;
}

/** A new instance of the embedded module `base64` (its own memory, 1 page to start), or null where it cannot run. */
export function instantiateEmbedded<T extends EmbeddedExports>(base64: string): T | null {
  const module = embeddedModule(base64);
  return module === null ? null : (new WebAssembly!.Instance(module, {}).exports as T);
}

/** Grows `exports`' memory to at least `bytes`; false where the engine refuses (the caller falls back). */
export function ensureMemory(exports: EmbeddedExports, bytes: number): boolean {
  const missing = bytes - exports.memory.buffer.byteLength;
  if (missing <= 0) return true;
  try {
    exports.memory.grow(Math.ceil(missing / WASM_PAGE));
    return true;
  } catch {
    return false;
  }
}
