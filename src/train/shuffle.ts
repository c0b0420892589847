/**
 * Seeded shuffling for the training loop.
 *
 * PRNG: mulberry32 (one definition, src/data/prng.ts). Each epoch gets its own generator seeded by `epochSeed(seed, epoch)` (murmur3's
 * fmix32 finaliser of the run seed and the epoch), so the order of epoch `e` depends only on (seed, e): a resumed
 * run shuffles exactly as an uninterrupted one with no generator state to carry in the checkpoint.
 */
import { mulberry32 } from '../data/prng.js';

export { mulberry32 };

/** murmur3 fmix32: a bijective avalanche of a 32-bit integer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit seed of epoch `epoch` (1-based) of a run seeded with `seed` (any integer). */
export function epochSeed(seed: number, epoch: number): number {
  return fmix32((fmix32(seed >>> 0) ^ Math.imul(epoch >>> 0, 0x9e3779b9)) >>> 0);
}

/** A permutation of 0..n-1 by Fisher-Yates (Durstenfeld) with `random`; uniform over all n! orders. */
export function permutation(n: number, random: () => number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** The training order of epoch `epoch`: `permutation(n, mulberry32(epochSeed(seed, epoch)))`. */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, mulberry32(epochSeed(seed, epoch)));
}

/**
 * `n` utterance indices drawn with replacement, index i with probability weights[i] / sum(weights) (inverse
 * transform on the cumulative weights, one mulberry32(epochSeed(seed, epoch)) stream): the order of epoch `epoch`
 * when training balances classes or corpora by sampling.
 */
export function weightedEpochOrder(weights: ArrayLike<number>, n: number, seed: number, epoch: number): Int32Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) cumulative[i] = total += Math.max(0, weights[i] as number);
  const random = mulberry32(epochSeed(seed, epoch));
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const target = random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cumulative[mid] as number) > target) high = mid;
      else low = mid + 1;
    }
    order[k] = low;
  }
  return order;
}
