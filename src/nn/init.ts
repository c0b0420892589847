/**
 * PyTorch's default initialisations (torch 1.13), drawn from our seeded Rng: the same distributions as
 * PyTorch, not the same numbers (torch's Mersenne-Twister stream is not reproduced).
 */
import type { Rng } from './random.js';
import { sizeOf } from '../shape.js';

/** U(-bound, bound) of `count` values. */
export function uniformArray(count: number, bound: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/**
 * nn.Linear / nn.Conv2d default: weight = kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * (gain sqrt(2 / (1 + 5)) times sqrt(3) / sqrt(fan_in)); bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * fan_in = in_features, or in_channels * kh * kw for a conv (shape[1] * prod(shape[2:])).
 */
export function defaultLinearBound(weightShape: readonly number[]): number {
  const fanIn = sizeOf(weightShape.slice(1));
  return 1 / Math.sqrt(fanIn);
}

/** xavier_uniform_: U(-b, b), b = sqrt(6 / (fan_in + fan_out)) (nn.MultiheadAttention's in_proj_weight). */
export function xavierBound(weightShape: readonly number[]): number {
  const fanOut = weightShape[0] as number;
  const fanIn = sizeOf(weightShape.slice(1));
  return Math.sqrt(6 / (fanIn + fanOut));
}
