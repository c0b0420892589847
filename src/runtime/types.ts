/**
 * The runtime seam: one backend-neutral interface for running a serialised ONNX model. Backends: `ort-node.ts`
 * (the only import of onnxruntime-node: training and Node inference) and `ort-web.ts` (the only import of
 * onnxruntime-web: src/web, browsers), both through ort-session.ts.
 */
import type { DType, HostArray } from '../graph/graph.js';

/** A host tensor: row-major data plus its shape (bool data as Uint8Array 0/1 with dtype 'bool'). */
export interface HostTensor {
  readonly data: HostArray;
  readonly shape: readonly number[];
  /** Needed only to mark a Uint8Array as bool; otherwise derived from the array type. */
  readonly dtype?: DType;
}

export interface SessionOptions {
  /** Intra-op threads, default DEFAULT_THREADS (ort-node.ts). */
  threads?: number;
  /** Write an ORT profile (chrome trace JSON) with this file prefix; `endProfiling()` returns the path. */
  profilePrefix?: string;
  /**
   * Let idle intra-op threads spin-wait for work (ORT's default). Default false here: on a small machine shared
   * with other processes, spinning threads steal the cores the work needs (docs/benchmark-log.md).
   */
  spinning?: boolean;
  /** ORT graph optimisation level, default 'all'. Training graphs (fed weights) run best with 'extended'. */
  optimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the optimised model here (debugging what ORT fused). */
  optimizedModelPath?: string;
}

/** A loaded model. Feeds must name every graph input; `run` returns every graph output (or `fetches`). */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Each input's declared shape: a number per fixed axis, the axis name (e.g. 'batch') per symbolic one. */
  readonly inputShapes: Readonly<Record<string, readonly (number | string)[]>>;
  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** Stops profiling and returns the profile file path ('' when profiling is off). */
  endProfiling(): string;
  release(): Promise<void>;
}
