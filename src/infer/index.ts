/**
 * Using a finished run: its model.onnx on onnxruntime-node for files and corpora (inference.ts: `ser predict`,
 * `ser eval`; calibrate.ts: `ser calibrate`), and the file-system-free steps every inference path shares, src/web's included (model-use.ts).
 *
 *   const { report } = await evaluateRun('runs/ravdess', { data: { dataset: 'crema-d', path: 'CREMA-D/AudioWAV', labels: 'crema-d' } });
 *   const [p] = await predictFiles('runs/ravdess', ['clip.wav']);   // { file, label, probabilities }
 */
export {
  type EvaluateRunOptions,
  type EvaluateRunResult,
  type FailedPrediction,
  type FlaggedPrediction,
  type Prediction,
  type SegmentedFilePrediction,
  RunModel,
  allPredicted,
  defaultModelDir,
  evaluateRun,
  predictFiles,
  predictSegments,
} from './inference.js';
export {
  type FlaggedRecording,
  type FlaggedSegment,
  type LabelledPrediction,
  type SegmentPrediction,
  type SegmentedPrediction,
  RecordingInputs,
  segmentStarts,
} from './model-use.js';
export { type CalibrateOptions, type CalibrationResult, calibrateRun } from './calibrate.js';
