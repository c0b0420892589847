import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { hasShared, sharedDir } from '../helpers.js';

test('round trip keeps dtype, shape, values and metadata', () => {
  const tensors = {
    a: { data: new Float32Array([1.5, -2, 3]), shape: [3] },
    b: { data: new BigInt64Array([1n, -5n, 7n, 0n]), shape: [2, 2] },
    c: { data: new Int32Array([42]), shape: [] },
  };
  const path = join(mkdtempSync(join(tmpdir(), 'ser-st-')), 'x.safetensors');
  writeSafetensors(path, tensors, { note: 'hello' });
  const back = readSafetensors(path);
  assert.deepEqual([...back.tensors.keys()], ['a', 'b', 'c']);
  assert.deepEqual(back.tensors.get('a')?.data, tensors.a.data);
  assert.deepEqual(back.tensors.get('b')?.data, tensors.b.data);
  assert.deepEqual(back.tensors.get('b')?.shape, [2, 2]);
  assert.deepEqual(back.tensors.get('c')?.shape, []);
  assert.equal(back.metadata.note, 'hello');
});

test('truncated and garbage files give EFORMAT naming the source', () => {
  const bytes = serializeSafetensors({ a: { data: new Float32Array(10), shape: [10] } });
  assert.throws(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'cut.safetensors'), /cut\.safetensors.*bad data offsets/);
  assert.throws(() => parseSafetensors(new Uint8Array(3), 'tiny'), /tiny: 3 bytes is too short/);
  const lies = new Uint8Array(16);
  new DataView(lies.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => parseSafetensors(lies, 'lies'), /lies: header claims/);
});

test('reads the torch golden file written by ../shared/reference/safetensors_io.py', { skip: !hasShared && 'needs ../shared' }, () => {
  const file = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_small.safetensors'));
  const labels = file.tensors.get('labels');
  assert.ok(labels?.data instanceof BigInt64Array);
  assert.deepEqual([...labels.data], [0n, 3n, 5n, 1n]);
  assert.deepEqual(file.tensors.get('input')?.shape, [4, 1, 64, 64]);
  assert.equal(JSON.parse(file.metadata.config ?? '{}').d_model, 64);
});
