/**
 * The order of each training epoch. Generator, shuffle and seed mixer: src/data/prng.ts. Each epoch gets its own
 * generator seeded by `epochSeed(seed, epoch)`, so the order of epoch `e` depends only on (seed, e): a resumed run
 * shuffles exactly as an uninterrupted one with no generator state to carry in the checkpoint.
 */
import { epochSeed, mulberry32, permutation } from '../data/prng.js';

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
