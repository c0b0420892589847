/**
 * Training: the loop that drives CnnTmTrainer (seeded epochs, early stopping, checkpoints, exact resume), one
 * run end to end as `ser train` does it, and inference with a finished run (`ser eval`, `ser predict`).
 *
 *   const result = await trainRun({ out: 'runs/ravdess', data: { dataset: 'ravdess', path: '../shared/data/ravdess' }, split: 'speaker', seed: 1 });
 *   const { report } = await evaluateRun('runs/ravdess', { data: { dataset: 'crema-d', path: 'CREMA-D/AudioWAV', labels: 'crema-d' } });
 *   const [p] = await predictFiles('runs/ravdess', ['clip.wav']);   // { file, label, probabilities }
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
export { epochOrder, epochSeed, mulberry32, permutation, weightedEpochOrder } from './shuffle.js';
export { type ProgressMode, createProgress } from './progress.js';
export { type ModelSize, EMBEDDED_CORPUS, EMBEDDED_DEFAULTS, modelFor } from './presets.js';
export { type RunConfig, CONFIG_FILE, METRICS_FILE, MODEL_BATCH, MODEL_FILE, SPLIT_FILE, readRunConfig } from './run-config.js';
export { type TrainRunOptions, type TrainRunResult, formatRunSummary, softmaxRows, trainRun } from './run.js';
export {
  type EvaluateRunOptions,
  type EvaluateRunResult,
  type FailedPrediction,
  type FlaggedPrediction,
  type Prediction,
  type SegmentedFilePrediction,
  RunModel,
  evaluateRun,
  predictFiles,
  predictSegments,
} from './inference.js';
export { type FlaggedSegment, type LabelledPrediction, type SegmentPrediction, type SegmentedPrediction, segmentStarts } from './model-use.js';
export { type AdamWOptions, resolveAdamW } from './adamw.js';
