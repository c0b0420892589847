/**
 * Training-mode dropout with its keep-mask FED to the graph, y = x * mask, mask = 1/(1-p) with probability 1-p
 * else 0 (torch.nn.Dropout in train mode). The gradient is the Mul rule's dy * mask.
 *
 * Why fed and not ONNX Dropout: ORT's CPU Dropout draws every element from one std::default_random_engine on
 * one thread (~4.5 ns per element) and its bool mask needs a Cast and a second Mul in the backward pass; the
 * paper-size training step spent ~57 ms of ~450 ms there. A mask made here by xoshiro128** costs ~1.3 ns per
 * element on the JS side and the graph multiplies by it in one multi-threaded pass forward and one backward
 * (bench/graph-profile.ts; docs/benchmark-log.md). The masks of a step are a pure function of the generator's seed and
 * the number of steps drawn since, so a run is reproducible and resumable bit for bit (CnnTmTrainer.newEpoch).
 */

import { SerError } from '../errors.js';
import type { Graph, Tensor } from '../graph/index.js';
import { mul } from '../graph/index.js';
import { Rng } from './random.js';

/** Name prefix of the mask inputs: `dropout_mask/<scope>/mask_<n>`. */
export const DROPOUT_MASK = 'dropout_mask/';

/** One mask input of a graph: its input name, shape and dropout probability. */
export interface DropoutMaskInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly ratio: number;
}

const maskInputs = new WeakMap<Graph, DropoutMaskInput[]>();

/** x * mask with `mask` a new float input of x's shape (see the file comment); p in (0, 1). */
export function fedDropout(x: Tensor, ratio: number): Tensor {
  if (!(ratio > 0 && ratio < 1)) throw new SerError('EARG', 'nn', `dropout ratio must be in (0, 1) (${ratio} given)`);
  const g = x.graph;
  const name = `${DROPOUT_MASK}${g.uniqueName('mask')}`;
  const mask = g.input(name, x.shape, x.dtype);
  let list = maskInputs.get(g);
  if (!list) maskInputs.set(g, (list = []));
  list.push({ name, shape: x.shape, ratio });
  return mul(x, mask);
}

/** The dropout masks a graph must be fed, in creation order (empty without dropout). */
export function dropoutMaskInputs(graph: Graph): readonly DropoutMaskInput[] {
  return maskInputs.get(graph) ?? [];
}

/**
 * Seeded generator of dropout masks: xoshiro128** (Blackman and Vigna, 2018; 32-bit state words, period
 * 2^128 - 1); each 32-bit draw decides two elements by its two 16-bit halves (an element is kept when its half
 * is below round((1 - p) 2^16), so the keep probability is within 2^-17 of 1 - p; one draw per element costs
 * twice the time for a precision no training run can see); kept values are 1 / (1 - p), as torch scales them.
 */
export class DropoutMaskGenerator {
  /** xoshiro128** state s0..s3; advanced by every fill. */
  readonly state = new Int32Array(4);

  constructor(seed: number) {
    const init = new Rng(seed); // mulberry32 spreads the seed over the four state words (never all zero)
    this.state.set([init.nextUint32(), init.nextUint32(), init.nextUint32(), init.nextUint32() | 1]);
  }

  /** Fills `out` with a fresh mask of dropout probability `ratio`. */
  fill(out: Float32Array, ratio: number): void {
    if (!(ratio > 0 && ratio < 1)) throw new SerError('EARG', 'nn', `dropout ratio must be in (0, 1) (${ratio} given)`);
    fillDropoutMask(this.state, out, ratio);
  }
}

/**
 * The generator's fill on an explicit state (advanced in place). Self-contained (no imports, no closure): the
 * trainer's mask worker (src/model/dropout-prefetch.ts) runs it from its source text.
 */
export function fillDropoutMask(state: Int32Array, out: Float32Array, ratio: number): void {
  const threshold = Math.round((1 - ratio) * 65536);
  const scale = 1 / (1 - ratio);
  let s0 = state[0] as number;
  let s1 = state[1] as number;
  let s2 = state[2] as number;
  let s3 = state[3] as number;
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const times5 = Math.imul(s1, 5);
    const draw = Math.imul((times5 << 7) | (times5 >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    // Branch-free (a random branch mispredicts half the time): (half - threshold) >>> 31 is 1 iff half < threshold.
    out[i] = scale * (((draw & 0xffff) - threshold) >>> 31);
    out[i + 1] = scale * (((draw >>> 16) - threshold) >>> 31); // past the end of an odd-length mask: ignored
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}
