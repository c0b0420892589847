/**
 * Training: the loop that drives CnnTmTrainer (seeded epochs, early stopping, checkpoints, exact resume) and one
 * run end to end as `ser train` does it. Using a finished run is src/infer.
 *
 *   const result = await trainRun({ out: 'runs/ravdess', data: { dataset: 'ravdess', path: '../shared/data/ravdess' }, split: 'speaker', seed: 1 });
 */
export {
  type Hyperparameters,
  type LabeledFeatures,
  type TrainOptions,
  type TrainResult,
  DEFAULT_HYPERPARAMETERS,
  lossAndAccuracy,
  predictLogits,
  train,
} from './loop.js';
export { type EarlyStoppingDecision, type EarlyStoppingState, EarlyStopping } from './early-stopping.js';
export {
  type EpochRecord,
  type LoopState,
  type TrainerState,
  BEST_FILE,
  CHECKPOINT_FILE,
  HISTORY_FILE,
  loadBest,
  loadCheckpoint,
} from './checkpoint.js';
export { epochOrder, weightedEpochOrder } from './shuffle.js';
export { epochSeed, mulberry32, permutation } from '../data/prng.js';
export { type ProgressMode, createProgress } from './progress.js';
export { type ModelSize, EMBEDDED_CORPUS, EMBEDDED_DEFAULTS, modelFor } from './presets.js';
export { type RunConfig, CONFIG_FILE, METRICS_FILE, MODEL_BATCH, MODEL_FILE, SPLIT_FILE } from './run-config.js';
export { readRunConfig } from './run-dir.js';
export { type TrainRunOptions, type TrainRunResult, formatRunSummary, trainRun } from './run.js';
export { type AdamWOptions, resolveAdamW } from '../nn/adamw.js';
