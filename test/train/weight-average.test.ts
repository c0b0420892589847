/**
 * The weight average (src/train/weight-average.ts): the update a <- d_t a + (1 - d_t) w with TensorFlow's ramp
 * d_t = min(decay, (1 + t) / (10 + t)), computed by hand for two steps; optimizer and integer tensors untouched;
 * the checkpoint round trip; a checkpoint without an average refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NamedTensor } from '../../src/io/safetensors.js';
import { AVERAGE_PREFIX, WeightAverage, averageDecayAt, withoutAverage } from '../../src/train/weight-average.js';

const f32 = (...values: number[]): NamedTensor => ({ data: Float32Array.from(values), shape: [values.length] });
const state = (w: number[], extra: Record<string, NamedTensor> = {}) =>
  new Map<string, NamedTensor>([
    ['conv.weight', f32(...w)],
    ['bn.num_batches_tracked', { data: BigInt64Array.of(7n), shape: [] }],
    ['optimizer/exp_avg/conv.weight', f32(9, 9)],
    ...Object.entries(extra),
  ]);

test('averageDecayAt: the ramp (1 + t) / (10 + t) up to the decay', () => {
  assert.equal(averageDecayAt(0.998, 1), 2 / 11);
  assert.equal(averageDecayAt(0.998, 90), 91 / 100);
  assert.equal(averageDecayAt(0.998, 10_000), 0.998);
});

test('WeightAverage: two steps by hand; optimizer and integer tensors are left to the trained state', () => {
  const average = new WeightAverage(0.5, state([1, 2]));
  average.update(state([3, 6]), 1); // d = min(0.5, 2/11) = 2/11
  average.update(state([5, -4]), 20); // d = 0.5
  const d1 = 2 / 11;
  const expected = [1, 2].map((a0, i) => {
    const a1 = Math.fround(d1 * a0 + (1 - d1) * ([3, 6][i] as number));
    return Math.fround(0.5 * a1 + 0.5 * ([5, -4][i] as number));
  });
  const trained = state([5, -4]);
  const applied = average.applyTo(trained);
  assert.deepEqual([...(applied.get('conv.weight')!.data as Float32Array)], expected);
  assert.equal(applied.get('optimizer/exp_avg/conv.weight'), trained.get('optimizer/exp_avg/conv.weight'));
  assert.equal(applied.get('bn.num_batches_tracked'), trained.get('bn.num_batches_tracked'));
  // applyTo copies: a later update does not change what was applied.
  average.update(state([0, 0]), 21);
  assert.deepEqual([...(applied.get('conv.weight')!.data as Float32Array)], expected);
});

test('WeightAverage: checkpoint entries round-trip; a checkpoint without them is refused', () => {
  const average = new WeightAverage(0.9, state([1, 2]));
  average.update(state([4, 8]), 100);
  const trained = state([4, 8]);
  const checkpoint = new Map([...trained, ...average.checkpointEntries()]);
  assert.deepEqual(
    [...checkpoint.keys()].filter((k) => k.startsWith(AVERAGE_PREFIX)),
    [`${AVERAGE_PREFIX}conv.weight`],
  );
  assert.deepEqual([...withoutAverage(checkpoint).keys()], [...trained.keys()]);
  const restored = WeightAverage.fromCheckpoint(0.9, checkpoint, 'run/checkpoint.safetensors');
  assert.deepEqual(restored.applyTo(trained).get('conv.weight'), average.applyTo(trained).get('conv.weight'));
  assert.throws(
    () => WeightAverage.fromCheckpoint(0.9, trained, 'run/checkpoint.safetensors'),
    /run\/checkpoint\.safetensors: the checkpoint holds no weight average for 1 tensors \(e\.g\. 'conv\.weight'\); was the run started without --ema-decay\?/,
  );
  assert.throws(() => new WeightAverage(1, trained), /decay must be in \(0, 1\) \(1 given\)/);
});
