import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochSeed, mulberry32, permutation } from '../../src/data/prng.js';
import { epochOrder } from '../../src/train/shuffle.js';

test('mulberry32: first outputs equal the published C reference', () => {
  // uint32 outputs of Tommy Ettinger's C mulberry32 (uint32_t z = (*a += 0x6D2B79F5UL); ...) compiled with gcc.
  const firstTwo = (seed: number) => {
    const random = mulberry32(seed);
    return [random(), random()].map((u) => u * 4294967296);
  };
  assert.deepEqual(firstTwo(0), [1144304738, 1416247]);
  assert.deepEqual(firstTwo(1), [2693262067, 11749833]);
  assert.deepEqual(firstTwo(2), [3153583793, 1395857638]);
});

test('mulberry32: uniform in [0, 1): mean and bucket counts of 100k draws', () => {
  const random = mulberry32(42);
  const buckets = new Array<number>(10).fill(0);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const u = random();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    buckets[Math.floor(u * 10)]!++;
  }
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.005, `mean ${sum / 100_000}`);
  // Each bucket expects 10,000 with sd ~95; 5 sd is 475.
  for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 475, `bucket count ${count}`);
});

test('permutation: every index exactly once; epoch orders depend only on (seed, epoch)', () => {
  const order = epochOrder(1000, 7, 3);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(epochOrder(1000, 7, 3), order);
  assert.notDeepEqual(epochOrder(1000, 7, 4), order);
  assert.notDeepEqual(epochOrder(1000, 8, 3), order);
  assert.notEqual(epochSeed(7, 3), epochSeed(3, 7));
});

test('permutation: all 6 orders of 3 items appear with near-equal frequency', () => {
  const random = mulberry32(1);
  const counts = new Map<string, number>();
  for (let i = 0; i < 60_000; i++) {
    const key = [...permutation(3, random)].join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  // Expected 10,000 each, sd ~91.
  for (const count of counts.values()) assert.ok(Math.abs(count - 10_000) < 460, `count ${count}`);
});
