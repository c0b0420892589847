/**
 * The project's seeded randomness, one definition each: the generator, the shuffle and the seed mixers.
 *
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG, period 2^32, passes gjrand/PractRand for the
 * sizes used here. Chosen because it is 6 lines, exactly reproducible in any language, and splits only need a
 * few thousand draws. Not for cryptography.
 *
 * Two seed mixers, each fixed by what depends on it: `epochSeed` (murmur3 fmix32) seeds each epoch's training
 * order, which checkpoints name ('mulberry32(epochSeed(seed, epoch)) + Fisher-Yates') so that a resumed run
 * shuffles as an uninterrupted one; `mixSeed` (lowbias32-style) seeds augmentation, dropout and weight streams.
 * Replacing one by the other would change every run's numbers.
 */
export type Random = () => number;

/** A generator of floats in [0, 1) from a 32-bit integer seed (the seed is taken modulo 2^32). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates (Durstenfeld) shuffle in place with `random`, uniform over all orders; returns the array. */
export function shuffleInPlace<T, A extends { length: number; [index: number]: T }>(items: A, random: Random): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/** A 31-bit integer mix of (seed, index) (splitmix-style), so neighbouring indices (epochs) get unrelated seeds. */
export function mixSeed(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** A permutation of 0..n-1: `shuffleInPlace` of 0, 1, ..., n-1. */
export function permutation(n: number, random: Random): Int32Array {
  return shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    random,
  );
}

/** murmur3 fmix32: a bijective avalanche of a 32-bit integer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit seed of epoch `epoch` (1-based) of a run seeded with `seed` (any integer); see the module comment. */
export function epochSeed(seed: number, epoch: number): number {
  return fmix32((fmix32(seed >>> 0) ^ Math.imul(epoch >>> 0, 0x9e3779b9)) >>> 0);
}
