/**
 * AdamW appended to a graph, exactly torch.optim.AdamW (torch 1.13, single-tensor path, amsgrad off,
 * maximize off). For each parameter p with gradient g, moments m and v, step t (1-based) and learning rate lr:
 *   p  <- p * (1 - lr * weight_decay)                      (decoupled weight decay, first)
 *   m  <- beta1 m + (1 - beta1) g
 *   v  <- beta2 v + (1 - beta2) g^2
 *   p  <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * t and lr are graph inputs (float64 scalars, so one graph serves every step and any lr schedule); the
 * per-step scalars are computed in float64 like PyTorch's Python floats and cast to float32 once.
 * Parity with torch: test/nn/adamw.test.ts (hand-computed) and the after_step/ golden in test/model.
 */
import { type Tensor, add, cast, div, mul, pow, sqrt, sub } from '../graph/index.js';
import { SerError } from '../errors.js';

export interface AdamWOptions {
  /** (beta1, beta2), default (0.9, 0.999). */
  readonly betas?: readonly [number, number];
  /** Added to the denominator, default 1e-8. */
  readonly eps?: number;
  /** Decoupled weight decay, default 0.01 (torch's AdamW default). */
  readonly weightDecay?: number;
}

/** The per-step float32 scalars shared by every parameter update. */
export interface AdamWStepScalars {
  /** 1 - lr * weight_decay */
  readonly decay: Tensor;
  /** lr / (1 - beta1^t) */
  readonly stepSize: Tensor;
  /** sqrt(1 - beta2^t) */
  readonly biasCorrection2Sqrt: Tensor;
}

export interface ResolvedAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** Fills defaults and checks ranges (EARG naming every bad value). */
export function resolveAdamW(options: AdamWOptions = {}): ResolvedAdamW {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  const eps = options.eps ?? 1e-8;
  const weightDecay = options.weightDecay ?? 0.01;
  const problems: string[] = [];
  if (!(beta1 >= 0 && beta1 < 1)) problems.push(`beta1 must be in [0, 1) (${beta1} given)`);
  if (!(beta2 >= 0 && beta2 < 1)) problems.push(`beta2 must be in [0, 1) (${beta2} given)`);
  if (!(eps >= 0)) problems.push(`eps must be >= 0 (${eps} given)`);
  if (!(weightDecay >= 0)) problems.push(`weightDecay must be >= 0 (${weightDecay} given)`);
  if (problems.length > 0) throw new SerError('EARG', 'adamw', problems.join('; '));
  return { beta1, beta2, eps, weightDecay };
}

/** Step scalars from the float64 scalar inputs `step` (t >= 1) and `lr`. */
export function adamwStepScalars(step: Tensor, lr: Tensor, options: ResolvedAdamW): AdamWStepScalars {
  for (const t of [step, lr]) {
    if (t.dtype !== 'float64' || t.shape.length !== 0) {
      throw new SerError('ESHAPE', 'adamw', `'${t.name}' must be a float64 scalar (got ${t.dtype} [${t.shape.join(', ')}])`);
    }
  }
  const g = step.graph;
  const biasCorrection1 = sub(1, pow(g.scalar(options.beta1, 'float64'), step));
  const biasCorrection2 = sub(1, pow(g.scalar(options.beta2, 'float64'), step));
  return {
    decay: cast(sub(1, mul(lr, options.weightDecay)), 'float32'),
    stepSize: cast(div(lr, biasCorrection1), 'float32'),
    biasCorrection2Sqrt: cast(sqrt(biasCorrection2), 'float32'),
  };
}

/** One AdamW update of `param` given its gradient and moments; returns the new tensors. */
export function adamwUpdate(
  param: Tensor,
  grad: Tensor,
  moments: { m: Tensor; v: Tensor },
  scalars: AdamWStepScalars,
  options: ResolvedAdamW,
): { param: Tensor; m: Tensor; v: Tensor } {
  const decayed = options.weightDecay === 0 ? param : mul(param, scalars.decay);
  const m = add(mul(moments.m, options.beta1), mul(grad, 1 - options.beta1));
  const v = add(mul(moments.v, options.beta2), mul(mul(grad, grad), 1 - options.beta2));
  const denominator = add(div(sqrt(v), scalars.biasCorrection2Sqrt), options.eps);
  const updated = sub(decayed, div(mul(m, scalars.stepSize), denominator));
  return { param: updated, m, v };
}
