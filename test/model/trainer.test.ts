import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { NamedTensor } from '../../src/io/safetensors.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import type { CnnTmConfig } from '../../src/model/config.js';
import { PAPER_CNN_TM, stateLayout } from '../../src/model/config.js';
import { CnnTmTrainer } from '../../src/model/trainer.js';
import { importStateDict } from '../../src/model/weights.js';
import { createSession } from '../../src/runtime/index.js';
import { Rng } from '../../src/nn/random.js';
import { hasShared, maxAbsDiff, relError, sharedDir } from '../helpers.js';

const SMALL: CnnTmConfig = { ...PAPER_CNN_TM, nMels: 64, dModel: 64, layers: 2, heads: 4, ffDim: 128, dropout: 0, frames: 64 };
/** Tiny config for fast API tests: 16 mels x 24 frames, d_model 16, 1 layer, dropout on. */
const TINY: CnnTmConfig = { ...PAPER_CNN_TM, nMels: 16, frames: 24, dModel: 16, layers: 1, heads: 2, ffDim: 32, dropout: 0.2, nClasses: 3 };

function batchOf(config: CnnTmConfig, batch: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: batch * config.nMels * config.frames }, () => rng.uniform(-80, 0));
  const y = Int32Array.from({ length: batch }, (_, i) => i % config.nClasses);
  return { x, y };
}

test('trainStep reproduces the torch step of cnn_tm_small (loss, BN statistics, parameters)', {
  skip: hasShared ? false : 'needs ../shared/golden',
}, async () => {
  const golden = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_small.safetensors')).tensors;
  const state = importStateDict(golden, SMALL, { prefix: 'param/' });
  for (const entry of stateLayout(SMALL)) {
    // param/ was cloned after the forward (see cnn-tm-train.test.ts): restore the fresh-module BN buffers.
    const n = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.role === 'running_mean') state.set(entry.name, { data: new Float32Array(n), shape: entry.shape });
    if (entry.role === 'running_var') state.set(entry.name, { data: new Float32Array(n).fill(1), shape: entry.shape });
    if (entry.role === 'num_batches_tracked') state.set(entry.name, { data: new BigInt64Array(1), shape: [] });
  }
  const trainer = await CnnTmTrainer.create(SMALL, { batchSize: 4, lr: 1e-3, seed: 0 });
  try {
    trainer.loadState(state);
    const { loss } = await trainer.trainStep(golden.get('input')?.data as Float32Array, golden.get('labels')?.data as BigInt64Array);
    assert.ok(relError([loss], golden.get('loss')?.data as Float32Array) < 1e-4);
    const after = trainer.state();
    assert.equal((after.get('optimizer/step')!.data as BigInt64Array)[0], 1n);
    // Every entry at 1e-5 except where AdamW's first step, lr * g / (|g| + eps), turns round-off in g into 1e-5
    // of the update: the exactly-zero gradients of cnn-tm-train.test.ts (conv biases before BN, key biases;
    // torch's values there are round-off up to 2e-7) and entries with |g| < 1e-7 (one query-bias entry at
    // 3.5e-8 moves by 2e-5 here, as the trainer's graph lowers convs to NCHWc kernels, another summation
    // order). The step on torch's own gradients is checked for every entry in test/nn/adamw.test.ts.
    const zeroGradient = (name: string, i: number): boolean =>
      /^[ab]\.(0|5|10)\.bias$/.test(name) || (name.endsWith('self_attn.in_proj_bias') && i >= SMALL.dModel && i < 2 * SMALL.dModel);
    for (const entry of stateLayout(SMALL).filter((e) => e.role !== 'num_batches_tracked')) {
      const torchGrad = golden.get(`grad/${entry.name}`)?.data as Float32Array | undefined;
      const keep = (_: number, i: number) => !zeroGradient(entry.name, i) && (!torchGrad || Math.abs(torchGrad[i] as number) >= 1e-7);
      const ours = (after.get(entry.name)!.data as Float32Array).filter(keep);
      const error = maxAbsDiff(ours, (golden.get(`after_step/${entry.name}`)!.data as Float32Array).filter(keep));
      assert.ok(error < 1e-5, `${entry.name}: ${error}`);
    }
  } finally {
    await trainer.release();
  }
});

/** The running statistics of every BatchNorm in a state, by state name (`a.1.running_mean`, ...). */
function bnStats(state: ReadonlyMap<string, NamedTensor>, config: CnnTmConfig): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const entry of stateLayout(config)) {
    if (entry.role === 'running_mean' || entry.role === 'running_var') out.set(entry.name, state.get(entry.name)?.data as Float32Array);
  }
  return out;
}

test('recalibrateBatchNorm on the golden batch: running stats = its batch mean and unbiased variance (torch)', {
  skip: hasShared ? false : 'needs ../shared/golden',
}, async () => {
  const golden = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_small.safetensors')).tensors;
  const trainer = await CnnTmTrainer.create(SMALL, { batchSize: 4, lr: 1e-3, seed: 0 });
  try {
    trainer.loadState(importStateDict(golden, SMALL, { prefix: 'param/' }));
    assert.deepEqual(await trainer.recalibrateBatchNorm(golden.get('input')?.data as Float32Array, 4), { batches: 1 });
    const state = trainer.state();
    // torch's one train-mode forward from the fresh buffers (mean 0, var 1) with momentum 0.1 gave after_step/:
    // after = 0.9 init + 0.1 batch_stat, so batch_stat = (after - 0.9 init) / 0.1 (var: the unbiased one).
    // Measured up to 2.6e-6 relative (float32 round-off of after, divided by 0.1); 1e-5 still catches a biased
    // variance, n / (n - 1) - 1 >= 6e-5 here (n = 4 x 64 x 64 at the first BN).
    for (const [name, ours] of bnStats(state, SMALL)) {
      const after = golden.get(`after_step/${name}`)?.data as Float32Array;
      const init = name.endsWith('running_var') ? 1 : 0;
      const expected = Float32Array.from(after, (v) => (v - 0.9 * init) / 0.1);
      const error = relError(ours, expected);
      assert.ok(error < 1e-5, `${name}: relative error ${error}`);
    }
    assert.deepEqual(state.get('a.1.num_batches_tracked')?.data, BigInt64Array.of(1n));
    // Parameters are untouched, and predict uses the new statistics (the eval session is rebuilt).
    assert.deepEqual(state.get('a.0.weight')?.data, golden.get('param/a.0.weight')?.data);
  } finally {
    await trainer.release();
  }
});

test('recalibrateBatchNorm: two batches average the per-batch statistics; dropout is off; remainder left out', async () => {
  const { x } = batchOf(TINY, 9, 7);
  const trainer = await CnnTmTrainer.create(TINY, { batchSize: 4, lr: 1e-3, seed: 2 });
  const noDropout = await CnnTmTrainer.create({ ...TINY, dropout: 0 }, { batchSize: 4, lr: 1e-3, seed: 2 });
  try {
    const before = await trainer.predict(x.subarray(0, 4 * TINY.nMels * TINY.frames), 4);
    const statsOf = async (order: number[]) => {
      await trainer.recalibrateBatchNorm(x, 9, order);
      return bnStats(trainer.state(), TINY);
    };
    const first = await statsOf([0, 1, 2, 3]);
    const second = await statsOf([4, 5, 6, 7]);
    assert.deepEqual(await trainer.recalibrateBatchNorm(x, 9), { batches: 2 }); // clip 8 is the left-out remainder
    const both = bnStats(trainer.state(), TINY);
    assert.deepEqual(trainer.state().get('b.11.num_batches_tracked')?.data, BigInt64Array.of(2n));
    for (const [name, value] of both) {
      const average = Float32Array.from(first.get(name)!, (v, i) => (v + second.get(name)![i]!) / 2);
      assert.ok(maxAbsDiff(value, average) <= 1e-6 * Math.max(1, ...average.map(Math.abs)), name);
      assert.notDeepEqual(first.get(name), second.get(name), `${name}: the two batches differ`);
    }
    // The statistics of a model with dropout 0.2 equal those of the same weights built with dropout 0.
    noDropout.loadState(trainer.state());
    await noDropout.recalibrateBatchNorm(x, 9);
    for (const [name, value] of bnStats(noDropout.state(), TINY)) assert.deepEqual(value, both.get(name), name);
    assert.notDeepEqual(await trainer.predict(x.subarray(0, 4 * TINY.nMels * TINY.frames), 4), before);
    await assert.rejects(trainer.recalibrateBatchNorm(x, 9, [0, 1, 2]), /3 clips are fewer than one batch of 4/);
  } finally {
    await trainer.release();
    await noDropout.release();
  }
});

test('training lowers the loss on a fixed batch; predict equals the exported ONNX model', async () => {
  const trainer = await CnnTmTrainer.create(TINY, { batchSize: 6, lr: 3e-3, seed: 1 });
  try {
    const { x, y } = batchOf(TINY, 6, 2);
    trainer.newEpoch(1);
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push((await trainer.trainStep(x, y)).loss);
    assert.ok((losses.at(-1) as number) < (losses[0] as number) * 0.5, `losses ${losses[0]} -> ${losses.at(-1)}`);
    const logits = await trainer.predict(x, 6);
    assert.equal(logits.length, 18);
    const session = await createSession(trainer.exportOnnx());
    try {
      assert.deepEqual(session.inputNames, ['mel']);
      const out = await session.run({ mel: { data: x, shape: [6, 1, TINY.nMels, TINY.frames] } });
      assert.ok(maxAbsDiff(out.logits?.data as Float32Array, logits) < 1e-5);
      const p = out.probabilities?.data as Float32Array;
      assert.ok(Math.abs(p.subarray(0, 3).reduce((a, b) => a + b, 0) - 1) < 1e-6);
    } finally {
      await session.release();
    }
    // What ser train writes: a symbolic batch axis, so any number of clips per run gives the same logits.
    const dynamic = await createSession(trainer.exportOnnx('dynamic'));
    try {
      const clip = TINY.nMels * TINY.frames;
      for (const [start, count] of [
        [0, 6],
        [2, 1],
        [3, 3],
      ] as const) {
        const out = await dynamic.run({
          mel: { data: x.subarray(start * clip, (start + count) * clip), shape: [count, 1, TINY.nMels, TINY.frames] },
        });
        assert.ok(
          maxAbsDiff(out.logits?.data as Float32Array, logits.subarray(start * 3, (start + count) * 3)) < 1e-5,
          `${count} clips from ${start}`,
        );
      }
    } finally {
      await dynamic.release();
    }
  } finally {
    await trainer.release();
  }
});

test('state()/loadState resume: same seed, epoch and state give bit-identical steps (dropout on)', async () => {
  const { x, y } = batchOf(TINY, 4, 3);
  const run = async (
    resumeFrom?: Map<string, NamedTensor>,
  ): Promise<{ snapshot: Map<string, NamedTensor>; final: Map<string, NamedTensor> }> => {
    const trainer = await CnnTmTrainer.create(TINY, { batchSize: 4, lr: 1e-3, seed: 5 });
    try {
      let snapshot = new Map<string, NamedTensor>();
      if (resumeFrom) trainer.loadState(resumeFrom);
      else {
        trainer.newEpoch(1);
        await trainer.trainStep(x, y);
        snapshot = trainer.state();
      }
      trainer.newEpoch(2);
      await trainer.trainStep(x, y);
      await trainer.trainStep(x, y);
      return { snapshot, final: trainer.state() };
    } finally {
      await trainer.release();
    }
  };
  const first = await run();
  const resumed = await run(first.snapshot);
  assert.equal((resumed.final.get('optimizer/step')!.data as BigInt64Array)[0], 3n);
  for (const [name, tensor] of first.final) assert.deepEqual(resumed.final.get(name)?.data, tensor.data, name);
  // A different epoch seed gives different dropout masks, hence different weights.
  const other = await CnnTmTrainer.create(TINY, { batchSize: 4, lr: 1e-3, seed: 5 });
  try {
    other.loadState(first.snapshot);
    other.newEpoch(3);
    await other.trainStep(x, y);
    await other.trainStep(x, y);
    assert.notDeepEqual(other.state().get('fc.weight')?.data, first.final.get('fc.weight')?.data);
  } finally {
    await other.release();
  }
});

test('bad inputs are rejected with the numbers', async () => {
  await assert.rejects(
    CnnTmTrainer.create(TINY, { batchSize: 0, lr: -1, seed: 0 }),
    /batchSize must be a positive integer \(0 given\); lr must be > 0 \(-1 given\)/,
  );
  const trainer = await CnnTmTrainer.create(TINY, { batchSize: 2, lr: 1e-3, seed: 0 });
  try {
    await assert.rejects(
      trainer.trainStep(new Float32Array(10), Int32Array.of(0, 1)),
      /input holds 10 values; a batch of 2 clips of 16 mels x 24 frames needs 768/,
    );
    await assert.rejects(trainer.trainStep(new Float32Array(768), Int32Array.of(0, 3)), /label 3 of clip 1 is outside 0..2/);
    assert.throws(() => trainer.loadState(new Map([['fc.bias', { data: new Float32Array(3), shape: [3] }]])), /missing 'a\.0\.weight'/);
  } finally {
    await trainer.release();
  }
});
