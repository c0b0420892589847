export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors } from './safetensors.js';
export type { NamedTensor, SafetensorsFile, TensorData } from './safetensors.js';
export { sweepStaleTempFiles, writeFileAtomic } from './atomic.js';
export { packageRoot, assetPath } from './paths.js';
export { startModuleWorker } from './worker.js';
