export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors } from './safetensors.js';
export type { NamedTensor, SafetensorsFile, TensorData } from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
export { packageRoot, assetPath } from './paths.js';
