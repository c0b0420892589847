/**
 * The runtime seam: one backend-neutral interface for running a serialised ONNX model. `ort-node.ts` is the
 * only file that imports onnxruntime-node; an onnxruntime-web backend would implement the same interface.
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
  /** Intra-op threads, default 2 (the machine budget of the benchmarks). */
  threads?: number;
  /** Write an ORT profile (chrome trace JSON) with this file prefix; `endProfiling()` returns the path. */
  profilePrefix?: string;
  /** ORT graph optimisation level, default 'all'. */
  optimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the optimised model here (debugging what ORT fused). */
  optimizedModelPath?: string;
}

/** A loaded model. Feeds must name every graph input; `run` returns every graph output (or `fetches`). */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** Stops profiling and returns the profile file path ('' when profiling is off). */
  endProfiling(): string;
  release(): Promise<void>;
}
