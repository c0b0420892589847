/**
 * Evaluation: metrics of a test set (`evaluate`, sklearn conventions), their JSON form (`toJson`), a terminal
 * table (`formatReport`), figures as SVG and a self-contained HTML report (`writeHtmlReport`).
 */
export { confusionMatrix, evaluate, rowNormalize } from './metrics.js';
export type { ClassMetrics, ConfusedPair, EvaluateOptions, EvaluationReport, PrecisionRecallF1 } from './metrics.js';
export { fromJson, toJson } from './json.js';
export type { EvaluationReportJson } from './json.js';
