import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { SerError } from '../../src/errors.js';
import {
  type EpochRecord,
  type LoopState,
  copyState,
  loadBest,
  loadCheckpoint,
  saveBest,
  saveCheckpoint,
} from '../../src/train/checkpoint.js';
import { createProgress, formatEpochLine } from '../../src/train/progress.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-checkpoint-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const record = (epoch: number, valLoss: number): EpochRecord => ({
  epoch,
  train_loss: 1.5,
  train_accuracy: 0.25,
  val_loss: valLoss,
  val_accuracy: 0.5,
  lr: 1e-4,
  seconds: 2.5,
});

test('checkpoint: trainer state and loop state round-trip (an Infinity best loss survives JSON)', () => {
  const state = new Map([
    ['a.0.weight', { data: Float32Array.of(1, -2, 3.5, 0), shape: [2, 2] }],
    ['optimizer/step', { data: BigInt64Array.of(7n), shape: [] }],
  ]);
  const loop: LoopState = {
    epoch: 2,
    earlyStopping: { bestLoss: Number.POSITIVE_INFINITY, bestEpoch: 0, epochsWithoutImprovement: 2 },
    shuffle: { algorithm: 'mulberry32(epochSeed(seed, epoch)) + Fisher-Yates', seed: 5 },
    finished: null,
    history: [record(1, Number.NaN), record(2, 3)],
  };
  saveCheckpoint(scratch, state, loop);
  const loaded = loadCheckpoint(scratch);
  assert.deepEqual([...(loaded.state.get('a.0.weight')!.data as Float32Array)], [1, -2, 3.5, 0]);
  assert.deepEqual(loaded.state.get('optimizer/step')!.data, BigInt64Array.of(7n));
  assert.equal(loaded.loop.earlyStopping.bestLoss, Number.POSITIVE_INFINITY);
  assert.equal(loaded.loop.epoch, 2);
  assert.equal(loaded.loop.shuffle.seed, 5);
  // history.jsonl: one line per epoch, the same records.
  const lines = readFileSync(join(scratch, 'history.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[1]!), record(2, 3));

  assert.equal(loadBest(join(scratch, 'elsewhere')), null);
  saveBest(scratch, copyState(state), 2, 3);
  assert.equal(loadBest(scratch)!.epoch, 2);
});

test('checkpoint: a copy does not share buffers with the original', () => {
  const original = new Map([['w', { data: Float32Array.of(1, 2), shape: [2] }]]);
  const copy = copyState(original);
  (original.get('w')!.data as Float32Array)[0] = 9;
  assert.equal(copy.get('w')!.data[0], 1);
});

test('checkpoint: a missing checkpoint is an EIO error naming the folder', () => {
  assert.throws(
    () => loadCheckpoint(join(scratch, 'none')),
    (error: unknown) =>
      error instanceof SerError && error.code === 'EIO' && /none: no checkpoint\.safetensors to resume from/.test(error.message),
  );
});

test('progress: one plain line per epoch when not on a terminal, nothing else', () => {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const progress = createProgress('auto', 150, sink as unknown as NodeJS.WriteStream);
  progress.start(300, 0);
  progress.step(1, 2.0);
  progress.epochEnd(record(1, 1.25), 1);
  progress.epochEnd(record(2, 1.5), 1);
  progress.stop();
  assert.equal(
    text,
    'epoch 1/150  train_loss 1.5000  train_acc 0.2500  val_loss 1.2500  val_acc 0.5000  2.5 s  (best)\n' +
      'epoch 2/150  train_loss 1.5000  train_acc 0.2500  val_loss 1.5000  val_acc 0.5000  2.5 s  (best: epoch 1)\n',
  );
  assert.equal(
    formatEpochLine(record(3, 1), 10, 3),
    'epoch 3/10  train_loss 1.5000  train_acc 0.2500  val_loss 1.0000  val_acc 0.5000  2.5 s  (best)',
  );
});
