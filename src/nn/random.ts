/**
 * Seeded pseudo-random numbers for weight initialisation and dropout seeds: the project's mulberry32
 * (src/data/prng.ts), with small consecutive seeds (0, 1, 2...) spread apart by the golden-ratio increment.
 * Deterministic across platforms: only 32-bit integer arithmetic.
 */
import { type Random, mulberry32 } from '../data/prng.js';

export class Rng {
  private readonly random: Random;

  constructor(seed: number) {
    this.random = mulberry32(Math.imul(seed >>> 0, 0x9e3779b9) ^ 0x85ebca6b);
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    return this.random() * 4294967296; // exact: the draw is a 32-bit integer / 2^32
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.random();
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }
}
