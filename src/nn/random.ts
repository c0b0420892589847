/**
 * Seeded pseudo-random numbers for weight initialisation and dropout seeds: mulberry32 (a 32-bit
 * counter hashed by two multiply-xorshift rounds; period 2^32, passes gjrand/PractRand to 2^32 outputs,
 * ample for initialising ~1M weights). Deterministic across platforms: only 32-bit integer arithmetic.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Spread small consecutive seeds (0, 1, 2...) apart with the golden-ratio increment.
    this.state = Math.imul(seed >>> 0, 0x9e3779b9) ^ 0x85ebca6b;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }
}
