/**
 * The Session of the runtime seam over an ONNX Runtime JavaScript session, shared by the backends
 * (ort-node.ts: onnxruntime-node; ort-web.ts: onnxruntime-web). Both packages expose onnxruntime-common's API;
 * this file needs only its shape, so it imports neither. Every ORT failure becomes SerError('ERUNTIME').
 */
import { SerError } from '../errors.js';
import { type DType, type HostArray, dtypeOfHost } from '../graph/graph.js';
import type { HostTensor, Session } from './types.js';

/** What the wrapper uses of an onnxruntime-common InferenceSession. */
export interface OrtInferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly (
    | { readonly name: string; readonly isTensor: false }
    | { readonly name: string; readonly isTensor: true; readonly shape: readonly (number | string)[] }
  )[];
  run(
    feeds: Record<string, unknown>,
    fetches?: readonly string[],
  ): Promise<Record<string, { readonly data: unknown; readonly dims: readonly number[]; readonly type: string }>>;
  release(): Promise<void>;
}

/** `new ort.Tensor(type, data, dims)` of the backend's package. */
export type OrtTensorFactory = (type: DType, data: HostArray, dims: readonly number[]) => unknown;

export function ortFailure(what: string, error: unknown): never {
  throw new SerError('ERUNTIME', 'runtime', `${what}: ${(error as Error).message ?? String(error)}`, { cause: error });
}

export class OrtSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputShapes: Readonly<Record<string, readonly (number | string)[]>>;
  private released = false;

  /** `endProfiling` returns the profile's path ('' when the backend does not profile). */
  constructor(
    private readonly session: OrtInferenceSession,
    private readonly makeTensor: OrtTensorFactory,
    private readonly stopProfiling: () => string = () => '',
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
    this.inputShapes = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m.isTensor ? [...m.shape] : []]));
  }

  async run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    if (this.released) throw new SerError('ERUNTIME', 'runtime', 'run() called after release()');
    const missing = this.inputNames.filter((n) => !(n in feeds));
    if (missing.length > 0) throw new SerError('ERUNTIME', 'runtime', `missing feeds for input(s) ${missing.join(', ')}`);
    const ortFeeds: Record<string, unknown> = {};
    for (const name of this.inputNames) {
      const t = feeds[name] as HostTensor;
      try {
        ortFeeds[name] = this.makeTensor(t.dtype ?? dtypeOfHost(t.data), t.data, t.shape);
      } catch (error) {
        ortFailure(`feed '${name}' (shape [${t.shape.join(',')}], ${t.data.length} values)`, error);
      }
    }
    let results: Awaited<ReturnType<OrtInferenceSession['run']>>;
    try {
      results = fetches ? await this.session.run(ortFeeds, fetches) : await this.session.run(ortFeeds);
    } catch (error) {
      return ortFailure('run failed', error);
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(results))
      out[name] = { data: tensor.data as HostArray, shape: tensor.dims, dtype: tensor.type as DType };
    return out;
  }

  endProfiling(): string {
    return this.stopProfiling();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
