/**
 * Evaluation: metrics of a test set (`evaluate`, sklearn conventions), their JSON form (`toJson`), a terminal
 * table (`formatReport`), figures as SVG and a self-contained HTML report (`writeHtmlReport`), per-recording
 * predictions as CSV and their paired comparison (`predictionsCsv`, `pairedComparison`).
 */
export { confusionMatrix, evaluate, rowNormalize } from './metrics.js';
export type {
  Calibration,
  ClassMetrics,
  ConfidenceBin,
  ConfusedPair,
  EvaluateOptions,
  EvaluationReport,
  PrecisionRecallF1,
  SpeakerSummary,
} from './metrics.js';
export type { Interval } from './intervals.js';
export {
  PREDICTIONS_FILE,
  mcNemarExactP,
  pairedComparison,
  parsePredictionsCsv,
  predictionsCsv,
  readPredictions,
} from './predictions.js';
export type { PairedComparison, PredictionRow, ScoredRecording } from './predictions.js';
export { fromJson, toJson } from './json.js';
export type { EvaluationReportJson } from './json.js';
export { formatReport } from './format.js';
export type { FormatOptions } from './format.js';
export {
  bestEpoch,
  confusionFigureSvg,
  historyFigureSvg,
  misclassificationFigureSvg,
  reliabilityFigureSvg,
  renderVegaLiteSvg,
} from './figures.js';
export type { EpochRecord } from './figures.js';
export { spectrogramFigureSvg, spectrogramPng, viridis } from './spectrogram-image.js';
export type { SpectrogramAxes, SpectrogramLike, SpectrogramPngOptions } from './spectrogram-image.js';
export { formatDuration, renderHtmlReport, writeHtmlReport } from './html-report.js';
export type { HtmlReportInput, RunInfo, SpectrogramExample, WrittenReport } from './html-report.js';
export {
  argmax,
  averageWindowProbabilities,
  logitCrossEntropy,
  probabilityCrossEntropy,
  softmaxInto,
  softmaxRows,
} from './probabilities.js';
