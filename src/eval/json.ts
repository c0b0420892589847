/**
 * The JSON form of an `EvaluationReport`: snake_case keys, the shape `ser eval --json` prints and independent
 * checks read (`accuracy`, `macro_f1`, `uar`, `labels`, `confusion` with rows = true class, ...).
 */
import { SerError } from '../errors.js';
import { confusionIntervals, type EvaluationReport } from './metrics.js';

/** `EvaluationReport` as plain JSON data with snake_case keys. */
export interface EvaluationReportJson {
  labels: string[];
  samples: number;
  accuracy: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  weighted_precision: number;
  weighted_recall: number;
  weighted_f1: number;
  uar: number;
  /** 95% intervals [low, high] for the sampling of the test recordings (intervals.ts). */
  accuracy_ci95: [number, number];
  uar_ci95: [number, number];
  cross_entropy: number | null;
  /** Macro one-vs-rest ROC AUC (null without probabilities; absent in reports written before it existed). */
  roc_auc: number | null;
  /** Expected calibration error over 15 confidence bins, the mean largest probability, and the non-empty bins. */
  ece: number | null;
  mean_confidence: number | null;
  reliability: Array<{ lower: number; upper: number; count: number; confidence: number; accuracy: number }> | null;
  /** rows = true class, columns = predicted class, in `labels` order. */
  confusion: number[][];
  per_class: Array<{
    label: string;
    precision: number;
    recall: number;
    f1: number;
    support: number;
    predicted: number;
    misclassification_rate: number | null;
    roc_auc: number | null;
  }>;
  most_confused: Array<{ true_label: string; predicted_label: string; count: number; rate: number }>;
  /** Accuracy and UAR per speaker when the samples' speakers were known (two or more); absent otherwise. */
  per_speaker?: Array<{ speaker: string; samples: number; accuracy: number; uar: number; accuracy_ci95: [number, number] }>;
  macro_averaged_over: string[];
}

/** The snake_case JSON form of a report (pass it to `JSON.stringify`). */
export function toJson(report: EvaluationReport): EvaluationReportJson {
  return {
    labels: [...report.labels],
    samples: report.samples,
    accuracy: report.accuracy,
    macro_precision: report.macro.precision,
    macro_recall: report.macro.recall,
    macro_f1: report.macro.f1,
    weighted_precision: report.weighted.precision,
    weighted_recall: report.weighted.recall,
    weighted_f1: report.weighted.f1,
    uar: report.uar,
    accuracy_ci95: [...report.accuracyInterval],
    uar_ci95: [...report.uarInterval],
    cross_entropy: report.crossEntropy,
    roc_auc: report.rocAuc,
    ece: report.calibration?.ece ?? null,
    mean_confidence: report.calibration?.meanConfidence ?? null,
    reliability: report.calibration?.bins.map((b) => ({ ...b })) ?? null,
    confusion: report.confusion.map((row) => [...row]),
    per_class: report.perClass.map((c) => ({
      label: c.label,
      precision: c.precision,
      recall: c.recall,
      f1: c.f1,
      support: c.support,
      predicted: c.predicted,
      misclassification_rate: c.misclassificationRate,
      roc_auc: c.rocAuc,
    })),
    most_confused: report.mostConfused.map((p) => ({
      true_label: p.trueLabel,
      predicted_label: p.predictedLabel,
      count: p.count,
      rate: p.rate,
    })),
    macro_averaged_over: [...report.macroAveragedOver],
    ...(report.perSpeaker.length === 0
      ? {}
      : {
          per_speaker: report.perSpeaker.map((p) => ({
            speaker: p.speaker,
            samples: p.samples,
            accuracy: p.accuracy,
            uar: p.uar,
            accuracy_ci95: [...p.accuracyInterval] as [number, number],
          })),
        }),
  };
}

/**
 * Reads back the JSON form written by `toJson` (e.g. a run's saved metrics.json, to re-render its report).
 * @throws SerError EFORMAT naming every missing or mistyped key.
 */
export function fromJson(json: unknown, source = 'report'): EvaluationReport {
  const j = json as Partial<EvaluationReportJson> | null;
  const problems: string[] = [];
  if (j === null || typeof j !== 'object') throw new SerError('EFORMAT', 'eval', `${source}: expected a JSON object, got ${typeof json}`);
  for (const key of [
    'accuracy',
    'macro_precision',
    'macro_recall',
    'macro_f1',
    'weighted_precision',
    'weighted_recall',
    'weighted_f1',
    'uar',
    'samples',
  ] as const) {
    if (typeof j[key] !== 'number') problems.push(`${key} is not a number`);
  }
  for (const key of ['labels', 'confusion', 'per_class', 'most_confused'] as const) {
    if (!Array.isArray(j[key])) problems.push(`${key} is not an array`);
  }
  if (Array.isArray(j.confusion) && !j.confusion.some((row) => Array.isArray(row) && row.some((count) => count > 0))) {
    problems.push('confusion has no samples');
  }
  if (problems.length > 0) throw new SerError('EFORMAT', 'eval', `${source}: not an evaluation report: ${problems.join(', ')}`);
  const r = j as EvaluationReportJson;
  return {
    labels: r.labels,
    samples: r.samples,
    accuracy: r.accuracy,
    macro: { precision: r.macro_precision, recall: r.macro_recall, f1: r.macro_f1 },
    weighted: { precision: r.weighted_precision, recall: r.weighted_recall, f1: r.weighted_f1 },
    uar: r.uar,
    // Recomputed from the confusion matrix, so reports written before the intervals existed get them too.
    ...confusionIntervals(r.confusion),
    perClass: r.per_class.map((c) => ({
      label: c.label,
      precision: c.precision,
      recall: c.recall,
      f1: c.f1,
      support: c.support,
      predicted: c.predicted,
      misclassificationRate: c.misclassification_rate,
      rocAuc: c.roc_auc ?? null,
    })),
    confusion: r.confusion,
    mostConfused: r.most_confused.map((p) => ({
      trueLabel: p.true_label,
      predictedLabel: p.predicted_label,
      trueIndex: r.labels.indexOf(p.true_label),
      predictedIndex: r.labels.indexOf(p.predicted_label),
      count: p.count,
      rate: p.rate,
    })),
    macroAveragedOver: r.macro_averaged_over ?? r.labels,
    crossEntropy: r.cross_entropy ?? null,
    rocAuc: r.roc_auc ?? null,
    calibration:
      typeof r.ece === 'number' && typeof r.mean_confidence === 'number' && Array.isArray(r.reliability)
        ? { ece: r.ece, meanConfidence: r.mean_confidence, bins: r.reliability.map((b) => ({ ...b })) }
        : null,
    perSpeaker: (r.per_speaker ?? []).map((p) => ({
      speaker: p.speaker,
      samples: p.samples,
      accuracy: p.accuracy,
      uar: p.uar,
      accuracyInterval: [...p.accuracy_ci95] as [number, number],
    })),
  };
}
