/** Runtime: run serialised ONNX models. `createSession(bytes, {threads})` -> Session {run, release}. */
export { DEFAULT_THREADS, createSession } from './ort-node.js';
/** nchwcBlockSize() -> MLAS NCHWc block (16 AVX-512, 8 AVX2, 0 none), for toOnnx({nchwcBlock}). */
export { nchwcBlockSize } from './nchwc.js';
export type { HostTensor, Session, SessionOptions } from './types.js';
