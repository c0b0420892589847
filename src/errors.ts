/**
 * The one error class of speech-emotion. Every failure a user can cause (bad file, bad flag, bad shape)
 * is raised as a `SerError` with a stable `code`, the module that raised it and a message that names the
 * input, says what is wrong and what to do: `decode: bad.wav: data chunk claims 2 GB but the file has 1 KB`.
 */
export type SerErrorCode =
  | 'EARG' // invalid argument or option value
  | 'EIO' // file cannot be read or written
  | 'EDECODE' // audio bytes are not a supported, intact format
  | 'EAUDIO' // decoded audio unusable (no samples, NaN/Inf)
  | 'ESHAPE' // tensor shape or dtype mismatch, raised while building a graph
  | 'EGRAD' // an op without a gradient rule was differentiated
  | 'EFORMAT' // a model/checkpoint/safetensors/manifest file is malformed
  | 'EDATA' // dataset problem (no files, unknown label, empty split)
  | 'EBUSY' // a run folder is locked by another process (src/io/run-lock.ts)
  | 'ERUNTIME'; // ONNX Runtime failed

export class SerError extends Error {
  readonly code: SerErrorCode;
  readonly module: string;
  constructor(code: SerErrorCode, module: string, message: string, options?: { cause?: unknown }) {
    super(`${module}: ${message}`, options);
    this.name = 'SerError';
    this.code = code;
    this.module = module;
  }
}

/** Human-readable byte count: 1536 -> "1.5 KB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
