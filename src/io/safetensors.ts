/**
 * safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then raw
 * little-endian tensor bytes. Used for features, weights, checkpoints and the torch golden files.
 */
import { readFileSync } from 'node:fs';
import { SerError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { sizeOf } from '../shape.js';

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface NamedTensor {
  readonly data: TensorData;
  readonly shape: readonly number[];
}

export interface SafetensorsFile {
  readonly tensors: Map<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

const DTYPES = {
  F32: Float32Array,
  F64: Float64Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
} as const;
type Dtype = keyof typeof DTYPES;

function dtypeOf(data: TensorData): Dtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
}

/** Parses safetensors bytes; `source` names the file in error messages. */
export function parseSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsFile {
  const fail = (what: string): never => {
    throw new SerError('EFORMAT', 'safetensors', `${source}: ${what}`);
  };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for a safetensors file (needs an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8)
    fail(`header claims ${headerLength} bytes but the file has ${bytes.byteLength} (truncated or not safetensors)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (error) {
    return fail(`header is not valid JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const Ctor = DTYPES[dtype as Dtype];
    if (!Ctor) fail(`tensor '${name}' has dtype ${dtype}; supported: ${Object.keys(DTYPES).join(', ')}`);
    const [begin, end] = offsets;
    const count = sizeOf(shape);
    if (end - begin !== count * Ctor.BYTES_PER_ELEMENT || dataStart + end > bytes.byteLength) {
      fail(`tensor '${name}' (${dtype} [${shape.join(', ')}]) has bad data offsets [${begin}, ${end}]`);
    }
    // Copy into an aligned buffer: typed arrays need offsets that are multiples of the element size.
    // (Node's Buffer.slice is a view, so copy explicitly.)
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { data: new Ctor(raw.buffer, 0, count), shape });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SerError('EIO', 'safetensors', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

export function serializeSafetensors(
  tensors: Map<string, NamedTensor> | Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, { data, shape }] of entries) {
    const count = sizeOf(shape);
    if (count !== data.length) {
      throw new SerError(
        'ESHAPE',
        'safetensors',
        `tensor '${name}': shape [${shape.join(', ')}] holds ${count} values but data has ${data.length}`,
      );
    }
    header[name] = { dtype: dtypeOf(data), shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const [, { data }] of entries) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

/** Writes atomically (temp file + rename), so an interrupted save never leaves a corrupt file. */
export function writeSafetensors(
  path: string,
  tensors: Map<string, NamedTensor> | Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
