import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.js';
import type { CnnTmConfig } from '../../src/model/config.js';
import { PAPER_CNN_TM, parameterCount, stateLayout } from '../../src/model/config.js';
import { importStateDict, initialState, loadStateDict, saveStateDict } from '../../src/model/weights.js';
import { hasShared, sharedDir } from '../helpers.js';

const SMALL: CnnTmConfig = { ...PAPER_CNN_TM, nMels: 64, dModel: 64, layers: 2, heads: 4, ffDim: 128, dropout: 0, frames: 64 };
const skipShared = hasShared ? false : 'needs ../shared/golden';

test('state layout: PyTorch keys and shapes of the paper model', () => {
  const layout = new Map(stateLayout(PAPER_CNN_TM).map((e) => [e.name, e]));
  assert.deepEqual(layout.get('a.0.weight')?.shape, [16, 1, 3, 3]);
  assert.deepEqual(layout.get('b.10.weight')?.shape, [64, 32, 3, 3]);
  assert.equal(layout.get('a.11.running_var')?.role, 'running_var');
  assert.deepEqual(layout.get('proj.weight')?.shape, [128, 2048]); // 2 branches x 64 channels x 128/8 mels
  assert.deepEqual(layout.get('enc.layers.5.self_attn.in_proj_weight')?.shape, [384, 128]);
  assert.deepEqual(layout.get('enc.layers.5.linear1.weight')?.shape, [512, 128]);
  assert.deepEqual(layout.get('fc.weight')?.shape, [6, 128]);
  assert.equal(layout.has('enc.layers.6.norm1.weight'), false);
  // 2 x (160 + 4640 + 18496 conv, 2 x (16 + 32 + 64) BN) + proj 262272 + 6 x 198272 encoder + fc 774
  assert.equal(parameterCount(PAPER_CNN_TM), 2 * (160 + 4640 + 18496 + 2 * 112) + 262272 + 6 * 198272 + 774);
});

test('kernel per branch changes only that branch', () => {
  const layout = new Map(stateLayout({ ...PAPER_CNN_TM, kernelB: 5 }).map((e) => [e.name, e]));
  assert.deepEqual(layout.get('a.5.weight')?.shape, [32, 16, 3, 3]);
  assert.deepEqual(layout.get('b.5.weight')?.shape, [32, 16, 5, 5]);
});

test('invalid config names every problem', () => {
  assert.throws(
    () => stateLayout({ ...PAPER_CNN_TM, heads: 3, kernelA: 4 }),
    /heads \(3\) must divide dModel \(128\).*kernelA must be odd/,
  );
});

test('golden state dicts import with the golden prefix', { skip: skipShared }, () => {
  const small = loadStateDict(join(sharedDir, 'golden', 'cnn_tm_small.safetensors'), SMALL, { prefix: 'param/' });
  assert.equal(small.size, stateLayout(SMALL).length);
  assert.deepEqual(small.get('a.1.num_batches_tracked')?.shape, []);
  const full = loadStateDict(join(sharedDir, 'golden', 'cnn_tm_full_eval.safetensors'), PAPER_CNN_TM, { prefix: 'param/' });
  assert.equal(full.size, stateLayout(PAPER_CNN_TM).length);
});

test('mismatches are all reported in one error', { skip: skipShared }, () => {
  const file = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_small.safetensors'));
  const tensors = new Map(file.tensors);
  tensors.delete('param/fc.bias');
  tensors.set('param/extra.weight', { data: new Float32Array(2), shape: [2] });
  assert.throws(
    () => importStateDict(tensors, { ...SMALL, nClasses: 7 }, { prefix: 'param/', source: 'small.safetensors' }),
    (error: Error) =>
      /small\.safetensors does not match CNN-TM/.test(error.message) &&
      /missing 'param\/fc\.bias' \[7\]/.test(error.message) &&
      /'param\/fc\.weight' has shape \[6, 64\], expected \[7, 64\]/.test(error.message) &&
      /unexpected 'param\/extra\.weight' \[2\]/.test(error.message),
  );
});

test('initial state: PyTorch init distributions, identical encoder layers, save/load round trip', () => {
  const state = initialState(SMALL, 7);
  const bound = (name: string) => Math.max(...Array.from(state.get(name)?.data as Float32Array, Math.abs));
  assert.ok(bound('a.0.weight') <= 1 / 3 && bound('a.0.weight') > 0.25); // fan_in 9
  assert.ok(bound('proj.weight') <= 1 / 32 && bound('proj.weight') > 0.03); // fan_in 1024
  assert.ok(bound('enc.layers.0.self_attn.in_proj_weight') <= Math.sqrt(6 / 256));
  assert.equal(bound('enc.layers.0.self_attn.in_proj_bias'), 0);
  assert.deepEqual(state.get('a.1.running_var')?.data, new Float32Array(16).fill(1));
  assert.deepEqual(state.get('enc.layers.1.linear1.weight')?.data, state.get('enc.layers.0.linear1.weight')?.data);
  assert.notDeepEqual(initialState(SMALL, 8).get('fc.weight')?.data, state.get('fc.weight')?.data);
  const dir = mkdtempSync(join(tmpdir(), 'weights-'));
  try {
    const path = join(dir, 'w.safetensors');
    saveStateDict(path, state, SMALL);
    const back = loadStateDict(path, SMALL);
    for (const [name, tensor] of state) assert.deepEqual(back.get(name)?.data, tensor.data, name);
    assert.deepEqual(JSON.parse(readSafetensors(path).metadata.cnn_tm_config ?? '{}'), SMALL);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
