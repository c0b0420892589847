/** Runtime: run serialised ONNX models. `createSession(bytes, {threads})` -> Session {run, release}. */
export { createSession } from './ort-node.js';
export type { HostTensor, Session, SessionOptions } from './types.js';
