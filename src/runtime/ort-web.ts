/**
 * ONNX Runtime Web (onnxruntime-web, WebAssembly CPU) backend of the runtime seam, for browsers and any
 * JavaScript runtime without native addons: the only import of onnxruntime-web in the project. onnxruntime-web is
 * an optional peer dependency (install it next to speech-emotion to use src/web); its .wasm files must be
 * reachable by the page (bundlers copy them; else set `wasmPaths` to where they are served).
 */
import * as ort from 'onnxruntime-web';
import { type OrtInferenceSession, OrtSession, ortFailure } from './ort-session.js';
import type { Session } from './types.js';

export interface WebSessionOptions {
  /**
   * WebAssembly threads (ort.env.wasm.numThreads; >1 needs a cross-origin-isolated page). ORT reads this
   * process-wide setting when its first session is created, so it applies only to the first createWebSession.
   */
  threads?: number;
  /** Where the ort-wasm*.wasm files are served (ort.env.wasm.wasmPaths), e.g. a CDN or '/assets/'. */
  wasmPaths?: string;
}

/** Loads ONNX model bytes into an onnxruntime-web session on the 'wasm' (CPU) execution provider. */
export async function createWebSession(modelBytes: Uint8Array, options: WebSessionOptions = {}): Promise<Session> {
  if (options.threads !== undefined) ort.env.wasm.numThreads = options.threads;
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  try {
    const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return new OrtSession(session as unknown as OrtInferenceSession, (type, data, dims) => new ort.Tensor(type, data, dims));
  } catch (error) {
    return ortFailure(`cannot load the model (${modelBytes.byteLength} bytes)`, error);
  }
}
