/**
 * speech-emotion: speech emotion recognition in TypeScript, the CNN-TM design (two parallel CNN blocks and a
 * Transformer encoder over torchaudio-exact log-mel spectrograms), trained and run on ONNX Runtime.
 *
 *   import { trainRun, predictFiles } from 'speech-emotion';
 *   await trainRun({ out: 'runs/ravdess', data: { dataset: 'ravdess', path: 'RAVDESS/' }, split: 'speaker', seed: 0 });
 *   const [p] = await predictFiles('runs/ravdess', ['call.wav']);   // { file, label, probabilities }
 *
 * The folders' own index.ts files (audio, features, graph, runtime, nn, model, data, train, eval) hold the
 * lower-level pieces; this is the surface most applications need.
 */
export { SerError, type SerErrorCode } from './errors.js';
export { type DecodedAudio, type LoadedAudio, decodeAudio, loadAudio, loadAudioBatch, resample, toMono } from './audio/index.js';
export { type AudioAssessment, type VoiceActivity, assessAudio, voiceActivity } from './audio/index.js';
export { DEFAULT_FRONT_END, type FrontEndConfig, LogMelFrontEnd, type Spectrogram, fixLength, framesFor } from './features/index.js';
export { type Utterance, extractFeatures, loadCorpus, makeSplit } from './data/index.js';
export { type CnnTmConfig, CnnTmTrainer, PAPER_CNN_TM, loadStateDict, saveStateDict } from './model/index.js';
export { trainRun } from './train/index.js';
export { RunModel, calibrateRun, evaluateRun, predictFiles, predictSegments } from './infer/index.js';
export {
  type EvaluationReport,
  evaluate,
  formatReport,
  pairedComparison,
  parsePredictionsCsv,
  predictionsCsv,
  readPredictions,
  toJson,
  writeHtmlReport,
} from './eval/index.js';
export type { PairedComparison, PredictionRow, ScoredRecording } from './eval/predictions.js';
export { readSafetensors, writeSafetensors } from './io/index.js';

// The types the functions above take and return, so applications can name them (and the API reference shows them).
export type { BatchOptions, BatchResult } from './audio/load.js';
export type { LoadOptions } from './audio/signal.js';
export type { MelScale } from './features/config.js';
export type { MelFilterBank } from './features/mel.js';
export type { Corpus, LoadCorpusOptions } from './data/corpus.js';
export type { ExtractOptions, ExtractedFeatures, SkippedFile } from './data/feature-cache.js';
export { PART_NAMES } from './data/splits.js';
export type { HeldOut, PartName, Split, SplitOptions, SplitProtocol } from './data/splits.js';
export type { CorpusSource } from './data/mixture.js';
export type { InputNorm } from './model/config.js';
export type { TrainerOptions } from './model/trainer.js';
export type { ImportOptions, StateDict } from './model/weights.js';
export type { EvaluateOptions, ClassMetrics, ConfusedPair, PrecisionRecallF1 } from './eval/metrics.js';
export type { FormatOptions } from './eval/format.js';
export type { EvaluationReportJson } from './eval/json.js';
export type { HtmlReportInput, RunInfo, SpectrogramExample, WrittenReport } from './eval/html-report.js';
export type { EpochRecord } from './eval/figures.js';
export type { RunConfig } from './train/run-config.js';
export type { RecordingInputs } from './infer/model-use.js';
export type { CalibrateOptions, CalibrationResult } from './infer/calibrate.js';
export type { CalibratedPart } from './eval/calibration.js';
export type { TrainRunOptions, TrainRunResult } from './train/run.js';
export type { Hyperparameters } from './train/loop.js';
export type { Balance, Recipe } from './train/recipe.js';
export type { AugmentConfig, NoiseKind } from './train/augment.js';
export type { ModelSize } from './train/presets.js';
export type { InputPolicy } from './features/utterance.js';
export type { SpectrogramAxes, SpectrogramLike } from './eval/spectrogram-image.js';
export type { ProgressMode } from './train/progress.js';
export type {
  EvaluateRunOptions,
  EvaluateRunResult,
  FailedPrediction,
  FlaggedPrediction,
  Prediction,
  SegmentedFilePrediction,
} from './infer/inference.js';
export type { FlaggedRecording, FlaggedSegment, LabelledPrediction, SegmentPrediction, SegmentedPrediction } from './infer/model-use.js';
export type { NamedTensor, SafetensorsFile, TensorData } from './io/safetensors.js';
