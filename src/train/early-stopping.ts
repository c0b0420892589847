/**
 * Early stopping on a value to minimise, the validation loss or minus the validation UAR (loop.ts
 * Hyperparameters.monitor; as Keras' EarlyStopping(monitor=..., restore_best_weights=True)): an epoch improves when
 * its value is below the best so far by more than `minDelta` (`bestLoss` holds the best value); training stops
 * once `patience` epochs in a row have not improved. The caller keeps the weights of the best epoch and
 * restores them at the end. The whole state is three numbers, saved in every checkpoint.
 */
import { SerError } from '../errors.js';

export interface EarlyStoppingState {
  /** Lowest validation loss seen (Infinity before the first epoch). */
  bestLoss: number;
  /** Epoch (1-based) that reached `bestLoss`; 0 before the first epoch. */
  bestEpoch: number;
  /** Epochs since the last improvement. */
  epochsWithoutImprovement: number;
}

export interface EarlyStoppingDecision {
  /** This epoch is the new best: save its weights. */
  improved: boolean;
  /** Patience is exhausted: stop after this epoch. */
  stop: boolean;
}

export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  private current: EarlyStoppingState = { bestLoss: Number.POSITIVE_INFINITY, bestEpoch: 0, epochsWithoutImprovement: 0 };

  /**
   * @param patience epochs without improvement before stopping (>= 1).
   * @param minDelta an improvement must lower the loss by more than this (default 0).
   */
  constructor(patience: number, minDelta = 0) {
    if (!Number.isInteger(patience) || patience < 1) {
      throw new SerError('EARG', 'train', `patience must be an integer >= 1 (${patience} given)`);
    }
    if (!(minDelta >= 0)) throw new SerError('EARG', 'train', `minDelta must be >= 0 (${minDelta} given)`);
    this.patience = patience;
    this.minDelta = minDelta;
  }

  /** Records the validation loss of `epoch`. A NaN loss never improves. */
  update(epoch: number, valLoss: number): EarlyStoppingDecision {
    const improved = valLoss < this.current.bestLoss - this.minDelta;
    if (improved) {
      this.current = { bestLoss: valLoss, bestEpoch: epoch, epochsWithoutImprovement: 0 };
    } else {
      this.current = { ...this.current, epochsWithoutImprovement: this.current.epochsWithoutImprovement + 1 };
    }
    return { improved, stop: this.current.epochsWithoutImprovement >= this.patience };
  }

  state(): EarlyStoppingState {
    return { ...this.current };
  }

  loadState(state: EarlyStoppingState): void {
    this.current = { ...state };
  }
}
