/**
 * ONNX Runtime (onnxruntime-node, CPU) backend of the runtime seam: the only import of onnxruntime-node in
 * the project. Every ORT failure is rethrown as SerError('ERUNTIME', 'runtime', ...) with ORT's message.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type OrtInferenceSession, OrtSession, ortFailure } from './ort-session.js';
import type { Session, SessionOptions } from './types.js';

/**
 * ONNX Runtime's Linux builds (1.30) start a telemetry client with the first session unless ORT_DISABLE_TELEMETRY
 * is set: it writes an empty /tmp/mat-debug-<pid>.log for every process, and it parses /proc/self/cmdline with a
 * recursion whose depth grows with the command line, so a process started with more than ~29 KB of arguments
 * (`ser predict` over ~600 files) dies of a stack overflow (SIGSEGV) when the model loads. Off unless the
 * user set the variable; ORT reads it when its environment is created, at the first session.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

/** The newest `<prefix>_<date>_<time>.json` ORT wrote (onnxruntime-node does not return the profile's path). */
function newestProfile(prefix: string): string {
  const dir = dirname(resolve(prefix));
  const stem = `${basename(prefix)}_`;
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(stem) && f.endsWith('.json'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? '';
}

/** ORT intra-op threads when none are asked for (the machines this was built on have 2 cores). */
export const DEFAULT_THREADS = 2;

/** Loads ONNX model bytes into an ORT CPU session (intra-op threads DEFAULT_THREADS, optimisation 'all', no spinning). */
export async function createSession(modelBytes: Uint8Array, options: SessionOptions = {}): Promise<Session> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.threads ?? DEFAULT_THREADS,
    // Sequential: ORT's parallel executor (inter-op threads) is slower on the training step (docs/benchmark-log.md).
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.optimizationLevel ?? 'all',
    enableProfiling: options.profilePrefix !== undefined,
    ...(options.profilePrefix !== undefined ? { profileFilePrefix: options.profilePrefix } : {}),
    ...(options.optimizedModelPath !== undefined ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
    logSeverityLevel: 3,
    extra: { 'session.intra_op.allow_spinning': options.spinning ? '1' : '0' },
  };
  try {
    const session = await ort.InferenceSession.create(modelBytes, sessionOptions);
    const prefix = options.profilePrefix;
    const stopProfiling = (): string => {
      if (prefix === undefined) return '';
      session.endProfiling();
      return newestProfile(prefix);
    };
    return new OrtSession(session as unknown as OrtInferenceSession, (type, data, dims) => new ort.Tensor(type, data, dims), stopProfiling);
  } catch (error) {
    return ortFailure(`cannot load the model (${modelBytes.byteLength} bytes)`, error);
  }
}
