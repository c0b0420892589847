/**
 * An exponential moving average of the weights (Polyak averaging), kept beside the trained weights and the one
 * that is evaluated and kept (Hyperparameters.emaDecay). After training step t (1-based) every float tensor of the
 * model state w (parameters and BatchNorm running statistics) updates its average a:
 *
 *   a <- d_t a + (1 - d_t) w,   d_t = min(decay, (1 + t) / (10 + t))
 *
 * the ramp of TensorFlow's `tf.train.ExponentialMovingAverage(decay, num_updates)`, so the first steps do not keep
 * the random initial weights. Integer tensors (BatchNorm's `num_batches_tracked`) are taken from w.
 * The average starts as a copy of the initial weights (seeded, or the model a fine-tuning starts from); a resumed
 * run restores it from its checkpoint (fromCheckpoint).
 */
import { SerError } from '../errors.js';
import type { NamedTensor } from '../io/safetensors.js';
import { OPTIMIZER_PREFIX } from '../model/trainer.js';
import type { TrainerState } from './checkpoint.js';

/** Keys of the average inside a checkpoint: `ema/<state_dict key>`. */
export const AVERAGE_PREFIX = 'ema/';

/** The decay at 1-based step `step` (see the file comment). */
export function averageDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

export class WeightAverage {
  private readonly average = new Map<string, Float32Array>();
  private readonly shapes = new Map<string, number[]>();

  /** Starts from a copy of the model part of `state` (the `optimizer/` keys are ignored). */
  constructor(
    readonly decay: number,
    state: ReadonlyMap<string, NamedTensor>,
  ) {
    if (!(decay > 0 && decay < 1)) throw new SerError('EARG', 'train', `the weight-average decay must be in (0, 1) (${decay} given)`);
    for (const [name, tensor] of state) {
      if (name.startsWith(OPTIMIZER_PREFIX) || !(tensor.data instanceof Float32Array)) continue;
      this.average.set(name, tensor.data.slice());
      this.shapes.set(name, [...tensor.shape]);
    }
  }

  private tensor(name: string, average: Float32Array): NamedTensor {
    return { data: average.slice(), shape: [...(this.shapes.get(name) ?? [])] };
  }

  /** Folds in the weights after 1-based training step `step`. */
  update(state: ReadonlyMap<string, NamedTensor>, step: number): void {
    const d = averageDecayAt(this.decay, step);
    for (const [name, average] of this.average) {
      const weights = state.get(name)?.data as Float32Array;
      for (let i = 0; i < average.length; i++) average[i] = d * (average[i] as number) + (1 - d) * (weights[i] as number);
    }
  }

  /** `state` with every averaged tensor replaced by a copy of its average (optimizer and integer keys kept). */
  applyTo(state: ReadonlyMap<string, NamedTensor>): TrainerState {
    const out: TrainerState = new Map(state);
    for (const [name, average] of this.average) out.set(name, this.tensor(name, average));
    return out;
  }

  /** The average for a checkpoint, under AVERAGE_PREFIX (copies). */
  checkpointEntries(): TrainerState {
    const out: TrainerState = new Map();
    for (const [name, average] of this.average) out.set(AVERAGE_PREFIX + name, this.tensor(name, average));
    return out;
  }

  /**
   * The average saved by checkpointEntries in `checkpoint`, for a resumed run; EFORMAT when the checkpoint holds
   * none (the run was started without weight averaging) or not every tensor.
   */
  static fromCheckpoint(decay: number, checkpoint: ReadonlyMap<string, NamedTensor>, path: string): WeightAverage {
    const restored = new WeightAverage(decay, withoutAverage(checkpoint));
    const missing: string[] = [];
    for (const [name, average] of restored.average) {
      const saved = checkpoint.get(AVERAGE_PREFIX + name);
      if (!saved || !(saved.data instanceof Float32Array) || saved.data.length !== average.length) missing.push(name);
      else average.set(saved.data);
    }
    if (missing.length > 0) {
      throw new SerError(
        'EFORMAT',
        'train',
        `${path}: the checkpoint holds no weight average for ${missing.length} tensors (e.g. '${missing[0]}'); ` +
          'was the run started without --ema-decay? Resume it with the same flags',
      );
    }
    return restored;
  }
}

/** The checkpoint without the average's entries (what the trainer loads). */
export function withoutAverage(checkpoint: ReadonlyMap<string, NamedTensor>): TrainerState {
  return new Map([...checkpoint].filter(([key]) => !key.startsWith(AVERAGE_PREFIX)));
}
