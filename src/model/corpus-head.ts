/**
 * Corpus-adversarial training (Ganin & Lempitsky 2015, "Unsupervised Domain Adaptation by Backpropagation", the
 * DANN of Ganin et al. 2016): during training only, a small classifier guesses each clip's corpus from CNN-TM's
 * pooled encoder output [B, dModel], behind a gradient-reversal layer. The classifier learns to tell the corpora
 * apart; the reversed gradient (times -lambda) pushes the CNN and encoder towards features it cannot tell apart,
 * i.e. features of emotion rather than of a corpus's language, speakers and recording conditions. With
 * `ser train --speaker-adversarial` (Hyperparameters.adversary 'speaker') the same head's classes are the training
 * part's speakers instead (src/train/run.ts adversarialSpeakers).
 *
 *   corpus logits = Linear(64 -> corpora)(ReLU(Linear(dModel -> 64)(R_lambda(pooled))))
 *   R_lambda(x) = x forward, d R / d x = -lambda (lambda a graph input: Hyperparameters.corpusAdversarial
 *                 ramps it by reversalStrength)
 *
 * The head's weights (`corpus_head.*`) are training state only: checkpoints and best.safetensors hold them, the
 * deployable eval graph and model.onnx never do (their layout is stateLayout(config), which has no head).
 */
import { type Tensor, add, detach, mul, neg, relu, sub } from '../graph/index.js';
import type { NamedTensor } from '../io/safetensors.js';
import { mixSeed } from '../data/prng.js';
import { defaultLinearBound, uniformArray } from '../nn/init.js';
import { linear } from '../nn/layers.js';
import { Rng } from '../nn/random.js';
import { sizeOf } from '../shape.js';
import type { StateEntry } from './config.js';

/** State keys of the corpus classifier (nn.Sequential(Linear, ReLU, Linear) names, as PyTorch would give them). */
export const CORPUS_HEAD_PREFIX = 'corpus_head.';
/** Width of the classifier's hidden layer. */
export const CORPUS_HEAD_HIDDEN = 64;

/** The head's state entries for a model of width `dModel` and `corpora` corpora. */
export function corpusHeadLayout(dModel: number, corpora: number): StateEntry[] {
  const parameter = (name: string, shape: number[]): StateEntry => ({
    name: CORPUS_HEAD_PREFIX + name,
    shape,
    dtype: 'float32',
    role: 'parameter',
  });
  return [
    parameter('0.weight', [CORPUS_HEAD_HIDDEN, dModel]),
    parameter('0.bias', [CORPUS_HEAD_HIDDEN]),
    parameter('2.weight', [corpora, CORPUS_HEAD_HIDDEN]),
    parameter('2.bias', [corpora]),
  ];
}

/**
 * The head's initial weights: nn.Linear's default (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias), from
 * a generator of its own, so the rest of the model starts exactly as a run without the head (paired comparisons).
 */
export function corpusHeadInitialState(dModel: number, corpora: number, seed: number): Map<string, NamedTensor> {
  const rng = new Rng(mixSeed(seed, 0x636f7270)); // 'corp'
  const state = new Map<string, NamedTensor>();
  for (const entry of corpusHeadLayout(dModel, corpora)) {
    const weightShape = entry.name.endsWith('.bias')
      ? (state.get(entry.name.replace(/bias$/, 'weight')) as NamedTensor).shape
      : entry.shape;
    state.set(entry.name, { data: uniformArray(sizeOf(entry.shape), defaultLinearBound(weightShape), rng), shape: [...entry.shape] });
  }
  return state;
}

/** R_lambda: `x` forward; the gradient flowing back through it is multiplied by -lambda. */
export function gradientReversal(x: Tensor, lambda: Tensor): Tensor {
  const constant = detach(x);
  // x - detach(x) is exactly 0 forward and has gradient 1, so the sum is exactly x forward.
  return add(constant, mul(neg(lambda), sub(x, constant)));
}

/** Corpus logits [B, corpora] from the pooled encoder output [B, dModel] (see the module comment). */
export function corpusHeadLogits(pooled: Tensor, state: ReadonlyMap<string, Tensor>, lambda: Tensor): Tensor {
  const get = (name: string): Tensor => state.get(CORPUS_HEAD_PREFIX + name) as Tensor;
  const hidden = relu(linear(gradientReversal(pooled, lambda), get('0.weight'), get('0.bias')));
  return linear(hidden, get('2.weight'), get('2.bias'));
}

/**
 * lambda after a fraction `progress` in [0, 1] of the training steps: `max` (2 / (1 + exp(-10 p)) - 1), DANN's
 * schedule (Ganin et al. 2016, section 5.2.2): near 0 while the classifier is still random, `max` by the end.
 */
export function reversalStrength(max: number, progress: number): number {
  return max * (2 / (1 + Math.exp(-10 * progress)) - 1);
}
