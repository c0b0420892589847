/**
 * ONNX Runtime (onnxruntime-node, CPU) backend of the runtime seam: the only import of onnxruntime-node in
 * the project. Every ORT failure is rethrown as SerError('ERUNTIME', 'runtime', ...) with ORT's message.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { SerError } from '../errors.js';
import { type DType, type HostArray, dtypeOfHost } from '../graph/graph.js';
import type { HostTensor, Session, SessionOptions } from './types.js';

const ORT_TYPE: Record<DType, ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', bool: 'bool' };

function fail(what: string, error: unknown): never {
  throw new SerError('ERUNTIME', 'runtime', `${what}: ${(error as Error).message ?? String(error)}`, { cause: error });
}

class OrtNodeSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private released = false;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly profilePrefix: string | undefined,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  async run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    if (this.released) throw new SerError('ERUNTIME', 'runtime', 'run() called after release()');
    const missing = this.inputNames.filter((n) => !(n in feeds));
    if (missing.length > 0) throw new SerError('ERUNTIME', 'runtime', `missing feeds for input(s) ${missing.join(', ')}`);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const t = feeds[name] as HostTensor;
      try {
        ortFeeds[name] = new ort.Tensor(ORT_TYPE[t.dtype ?? dtypeOfHost(t.data)], t.data, t.shape);
      } catch (error) {
        fail(`feed '${name}' (shape [${t.shape.join(',')}], ${t.data.length} values)`, error);
      }
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = fetches ? await this.session.run(ortFeeds, fetches) : await this.session.run(ortFeeds);
    } catch (error) {
      return fail('run failed', error);
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, value] of Object.entries(results)) {
      const tensor = value as ort.Tensor;
      out[name] = { data: tensor.data as HostArray, shape: tensor.dims, dtype: tensor.type as DType };
    }
    return out;
  }

  endProfiling(): string {
    if (this.profilePrefix === undefined) return '';
    this.session.endProfiling();
    // onnxruntime-node does not return the path: ORT writes `<prefix>_<date>_<time>.json`; take the newest.
    const dir = dirname(resolve(this.profilePrefix));
    const stem = `${basename(this.profilePrefix)}_`;
    const files = readdirSync(dir)
      .filter((f) => f.startsWith(stem) && f.endsWith('.json'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    return files[0] ?? '';
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** Loads ONNX model bytes into an ORT CPU session (intra-op threads default 2, optimisation 'all', no spinning). */
export async function createSession(modelBytes: Uint8Array, options: SessionOptions = {}): Promise<Session> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.threads ?? 2,
    // ORT's parallel executor (inter-op threads) measured 40% slower on the training step: sequential only.
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
    return new OrtNodeSession(session, options.profilePrefix);
  } catch (error) {
    return fail(`cannot load the model (${modelBytes.byteLength} bytes)`, error);
  }
}
