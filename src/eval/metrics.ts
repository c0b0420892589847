/**
 * Classification metrics for one test set: accuracy, per-class and averaged precision / recall / F1,
 * unweighted average recall, confusion matrix, per-class misclassification rate and the most confused pairs.
 *
 * Definitions (scikit-learn conventions, `sklearn.metrics.precision_recall_fscore_support`,
 * `confusion_matrix`, `balanced_accuracy_score`, `log_loss`). With C the confusion matrix,
 * C[i][j] = number of samples of true class i predicted as class j:
 *
 *   support_i   = Σ_j C[i][j]                (row sum: samples whose true class is i)
 *   predicted_i = Σ_j C[j][i]                (column sum: samples predicted as i)
 *   precision_i = C[i][i] / predicted_i      (0 when predicted_i = 0: sklearn zero_division=0)
 *   recall_i    = C[i][i] / support_i        (0 when support_i = 0: zero_division=0)
 *   f1_i        = 2·C[i][i] / (predicted_i + support_i)
 *               = 2·P·R / (P + R)            (0 when predicted_i + support_i = 0, or P + R = 0)
 *   accuracy    = Σ_i C[i][i] / N
 *   macro m     = mean of m_i over the averaged classes (see `macroOver`)
 *   weighted m  = Σ_i support_i · m_i / N
 *   UAR         = mean of recall_i over the classes with support_i > 0
 *                 (= sklearn balanced_accuracy_score; equals macro recall whenever no class is predicted
 *                 that is absent from the truth, the normal case for a test set that has every class)
 *   misclassification rate_i = 1 - recall_i = (support_i - C[i][i]) / support_i: the share of class i's
 *                 samples predicted as another class (the paper's Table I); null when support_i = 0
 *   cross-entropy = -(1/N) Σ_n ln(max(p_n[y_n], 1e-15))  (natural log; clipping as sklearn log_loss's
 *                 historic eps so a zero probability costs 34.5 nats instead of Infinity)
 *   ROC AUC_i     = area under the one-vs-rest ROC curve of class i scored by p_n[i] (sklearn roc_auc_score on
 *                 y == i): the probability that a random sample of class i scores higher than a random sample of
 *                 another class, ties counting 1/2. Computed as the Mann-Whitney statistic with mid-ranks,
 *                 (Σ_{n: y_n = i} rank_n - P(P+1)/2) / (P·Q), P = support_i, Q = N - P (Hanley & McNeil 1982),
 *                 which equals the trapezoidal area sklearn computes; null when P = 0 or Q = 0
 *   macro ROC AUC = mean of ROC AUC_i over the classes where it is defined (sklearn roc_auc_score with
 *                 multi_class='ovr', average='macro', when every class occurs in the truth). It does not depend
 *                 on a decision threshold or on the classes' prior: a model whose scores rank well but whose
 *                 arg-max is biased toward one class (e.g. on a corpus it never heard) keeps a high AUC
 */
import { SerError } from '../errors.js';
import { type Interval, uarInterval, wilsonInterval } from './intervals.js';
import { argmax, probabilityCrossEntropy } from './probabilities.js';

/** Precision, recall and F1 of one class, or an average of them. */
export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

/** Metrics of one class; `support` = true samples of the class, `predicted` = samples predicted as it. */
export interface ClassMetrics extends PrecisionRecallF1 {
  label: string;
  support: number;
  predicted: number;
  /** 1 - recall: share of this class's samples predicted as another class; null when the class is absent from the truth. */
  misclassificationRate: number | null;
  /** One-vs-rest ROC AUC of the class's probability; null without probabilities or when the class is absent or alone. */
  rocAuc: number | null;
}

/** One off-diagonal cell of the confusion matrix: `count` samples of `trueLabel` predicted as `predictedLabel`. */
export interface ConfusedPair {
  trueLabel: string;
  predictedLabel: string;
  trueIndex: number;
  predictedIndex: number;
  count: number;
  /** count / support of the true class. */
  rate: number;
}

/** One confidence bin of the reliability diagram: samples whose largest probability is in (lower, upper]. */
export interface ConfidenceBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean largest probability of the bin's samples. */
  confidence: number;
  /** Share of the bin's samples predicted right. */
  accuracy: number;
}

/** Calibration of the probabilities (module comment): ECE, mean confidence, and the non-empty bins. */
export interface Calibration {
  ece: number;
  meanConfidence: number;
  bins: ConfidenceBin[];
}

/** Accuracy and UAR over one speaker's samples. */
export interface SpeakerSummary {
  speaker: string;
  samples: number;
  accuracy: number;
  /** UAR over the classes this speaker has samples of. */
  uar: number;
  accuracyInterval: Interval;
}

/** Everything `evaluate` computes. Plain data: `toJson` gives the snake_case JSON form. */
export interface EvaluationReport {
  labels: string[];
  /** Number of samples N. */
  samples: number;
  accuracy: number;
  macro: PrecisionRecallF1;
  weighted: PrecisionRecallF1;
  /** Unweighted average recall over the classes present in the truth. */
  uar: number;
  /** 95% interval of `accuracy` for the sampling of the test recordings (Wilson; intervals.ts). */
  accuracyInterval: Interval;
  /** 95% interval of `uar` for the sampling of the test recordings (per-class Agresti-Coull; intervals.ts). */
  uarInterval: Interval;
  perClass: ClassMetrics[];
  /** [nClasses][nClasses] counts, rows = true class, columns = predicted class, in `labels` order. */
  confusion: number[][];
  /** Off-diagonal cells with count > 0, largest first, at most `topConfused`. */
  mostConfused: ConfusedPair[];
  /** Labels included in the macro averages (see `EvaluateOptions.macroOver`). */
  macroAveragedOver: string[];
  /** Mean cross-entropy in nats when probabilities were given, else null. */
  crossEntropy: number | null;
  /** Macro one-vs-rest ROC AUC over the classes where it is defined; null without probabilities or when none is. */
  rocAuc: number | null;
  /** Expected calibration error and reliability bins; null without probabilities. */
  calibration: Calibration | null;
  /** One entry per speaker in natural order of the ids, when `EvaluateOptions.speakers` names two or more; else empty. */
  perSpeaker: SpeakerSummary[];
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /**
   * Per-sample class probabilities, [N, nClasses] row-major (a flat array) or one array per sample.
   * Used for `crossEntropy`, `rocAuc` and `calibration` (whose predictions are always the arg-max), and for the
   * predictions when `predicted` is null (arg-max, lowest index on ties).
   */
  probabilities?: Float32Array | Float64Array | number[] | number[][];
  /**
   * Which classes the macro averages run over. 'present' (default) = classes that occur in the truth or the
   * predictions, as sklearn's `average='macro'` without `labels=`; 'all' = every entry of `labels`, as sklearn
   * with `labels=range(nClasses)` (a class absent from both then counts as P = R = F1 = 0).
   */
  macroOver?: 'present' | 'all';
  /** How many most-confused pairs to keep (default 5). */
  topConfused?: number;
  /** Speaker of each sample ('' = unknown, left out of `perSpeaker`), for the per-speaker breakdown. */
  speakers?: readonly string[];
}

const MODULE = 'eval';
const MAX_LISTED_ERRORS = 5;

/**
 * Scores predictions against the truth.
 * @param trueLabels [N] class indices into `labels`.
 * @param predicted [N] predicted class indices, or null to take the arg-max of `options.probabilities`.
 * @param labels class names; index i names class i.
 * @throws SerError EARG on empty input, length mismatch, indices outside 0..nClasses-1 (all listed) or bad probabilities.
 */
export function evaluate(
  trueLabels: ArrayLike<number>,
  predicted: ArrayLike<number> | null,
  labels: readonly string[],
  options: EvaluateOptions = {},
): EvaluationReport {
  const nClasses = labels.length;
  const n = trueLabels.length;
  if (nClasses === 0) throw new SerError('EARG', MODULE, 'labels is empty: pass the class names, index i naming class i');
  if (n === 0) throw new SerError('EARG', MODULE, 'no samples to evaluate (trueLabels is empty)');
  const probabilities = options.probabilities === undefined ? null : flattenProbabilities(options.probabilities, n, nClasses);
  if (predicted === null && probabilities === null) {
    throw new SerError('EARG', MODULE, 'predicted is null and no probabilities were given: pass one of them');
  }
  const predictions = predicted ?? argMaxRows(probabilities!, n, nClasses);
  if (predictions.length !== n) {
    throw new SerError('EARG', MODULE, `trueLabels has ${n} samples but predicted has ${predictions.length}: they must match`);
  }
  checkIndices('trueLabels', trueLabels, nClasses);
  checkIndices('predicted', predictions, nClasses);

  const confusion = confusionMatrix(trueLabels, predictions, nClasses);
  const classAuc = probabilities === null ? null : oneVsRestAuc(probabilities, trueLabels, nClasses);
  const perClass = labels.map((label, i) => classMetrics(label, i, confusion, classAuc?.[i] ?? null));
  const definedAuc = perClass.flatMap((c) => (c.rocAuc === null ? [] : [c.rocAuc]));
  const present = perClass.filter((c) => c.support > 0 || c.predicted > 0);
  const averaged = options.macroOver === 'all' ? perClass : present;
  let correct = 0;
  for (let i = 0; i < nClasses; i++) correct += confusion[i]![i]!;
  const withSupport = perClass.filter((c) => c.support > 0);

  return {
    labels: [...labels],
    samples: n,
    accuracy: correct / n,
    macro: {
      precision: mean(averaged.map((c) => c.precision)),
      recall: mean(averaged.map((c) => c.recall)),
      f1: mean(averaged.map((c) => c.f1)),
    },
    weighted: {
      precision: weightedMean(perClass, (c) => c.precision, n),
      recall: weightedMean(perClass, (c) => c.recall, n),
      f1: weightedMean(perClass, (c) => c.f1, n),
    },
    uar: mean(withSupport.map((c) => c.recall)),
    ...confusionIntervals(confusion),
    perClass,
    confusion,
    mostConfused: mostConfusedPairs(confusion, labels, options.topConfused ?? 5),
    macroAveragedOver: averaged.map((c) => c.label),
    crossEntropy: probabilities === null ? null : meanCrossEntropy(probabilities, trueLabels, nClasses),
    rocAuc: definedAuc.length === 0 ? null : mean(definedAuc),
    calibration: probabilities === null ? null : calibrationOf(probabilities, trueLabels, nClasses),
    perSpeaker: options.speakers === undefined ? [] : speakerSummaries(options.speakers, trueLabels, predictions, nClasses),
  };
}

/** Per-speaker accuracy and UAR (module comment); empty unless two or more speakers are known. */
function speakerSummaries(
  speakers: readonly string[],
  trueLabels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  nClasses: number,
): SpeakerSummary[] {
  if (speakers.length !== trueLabels.length) {
    throw new SerError(
      'EARG',
      MODULE,
      `speakers has ${speakers.length} entries but there are ${trueLabels.length} samples: they must match`,
    );
  }
  const samplesOf = new Map<string, number[]>();
  speakers.forEach((speaker, s) => {
    if (speaker === '') return;
    const members = samplesOf.get(speaker);
    if (members) members.push(s);
    else samplesOf.set(speaker, [s]);
  });
  if (samplesOf.size < 2) return [];
  const order = [...samplesOf.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return order.map((speaker) => {
    const members = samplesOf.get(speaker)!;
    const confusion = confusionMatrix(
      members.map((s) => trueLabels[s]!),
      members.map((s) => predictions[s]!),
      nClasses,
    );
    const right = members.filter((s) => trueLabels[s] === predictions[s]).length;
    const recalls = confusion.flatMap((row, i) => {
      const support = row.reduce((a, b) => a + b, 0);
      return support === 0 ? [] : [row[i]! / support];
    });
    return {
      speaker,
      samples: members.length,
      accuracy: right / members.length,
      uar: mean(recalls),
      accuracyInterval: wilsonInterval(right, members.length),
    };
  });
}

/** [nClasses][nClasses] counts, rows = true class, columns = predicted class. Indices must be valid. */
export function confusionMatrix(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>, nClasses: number): number[][] {
  const matrix = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let s = 0; s < trueLabels.length; s++) matrix[trueLabels[s]!]![predicted[s]!]! += 1;
  return matrix;
}

/** The 95% intervals of accuracy and UAR from a confusion matrix (rows = true class; at least one sample). */
export function confusionIntervals(confusion: readonly (readonly number[])[]): { accuracyInterval: Interval; uarInterval: Interval } {
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const correct = confusion.map((row, i) => row[i]!);
  const total = support.reduce((a, b) => a + b, 0);
  return {
    accuracyInterval: wilsonInterval(
      correct.reduce((a, b) => a + b, 0),
      total,
    ),
    uarInterval: uarInterval(correct, support)!,
  };
}

/** Confusion rows divided by their sums (rows of absent classes stay 0). */
export function rowNormalize(confusion: readonly (readonly number[])[]): number[][] {
  return confusion.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total === 0 ? 0 : v / total));
  });
}

function classMetrics(label: string, i: number, confusion: number[][], rocAuc: number | null): ClassMetrics {
  const truePositives = confusion[i]![i]!;
  const support = confusion[i]!.reduce((a, b) => a + b, 0);
  let predicted = 0;
  for (const row of confusion) predicted += row[i]!;
  const precision = predicted === 0 ? 0 : truePositives / predicted;
  const recall = support === 0 ? 0 : truePositives / support;
  const f1 = predicted + support === 0 ? 0 : (2 * truePositives) / (predicted + support);
  const misclassificationRate = support === 0 ? null : (support - truePositives) / support;
  return { label, precision, recall, f1, support, predicted, misclassificationRate, rocAuc };
}

/** Number of equal-width confidence bins of the calibration error (Guo et al. 2017). */
const CALIBRATION_BINS = 15;

/** ECE and reliability bins (the formula in the module comment). Bin edges k·(1/15) as numpy.linspace(0, 1, 16). */
function calibrationOf(probabilities: Float64Array, trueLabels: ArrayLike<number>, nClasses: number): Calibration {
  const n = trueLabels.length;
  const predictions = argMaxRows(probabilities, n, nClasses);
  const confidence = Float64Array.from({ length: n }, (_, s) => probabilities[s * nClasses + predictions[s]!]!);
  const bins: ConfidenceBin[] = [];
  let ece = 0;
  for (let k = 0; k < CALIBRATION_BINS; k++) {
    const lower = k * (1 / CALIBRATION_BINS);
    const upper = k === CALIBRATION_BINS - 1 ? 1 : (k + 1) * (1 / CALIBRATION_BINS);
    let count = 0;
    let confidenceSum = 0;
    let right = 0;
    for (let s = 0; s < n; s++) {
      if (!(confidence[s]! > lower && confidence[s]! <= upper)) continue;
      count++;
      confidenceSum += confidence[s]!;
      if (predictions[s] === trueLabels[s]) right++;
    }
    if (count === 0) continue;
    const bin = { lower, upper, count, confidence: confidenceSum / count, accuracy: right / count };
    bins.push(bin);
    ece += (count / n) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { ece, meanConfidence: mean(Array.from(confidence)), bins };
}

/** ROC AUC of each class against the rest by mid-ranks (the formula in the module comment); null where undefined. */
function oneVsRestAuc(probabilities: Float64Array, trueLabels: ArrayLike<number>, nClasses: number): Array<number | null> {
  const n = trueLabels.length;
  const order = new Int32Array(n);
  const ranks = new Float64Array(n);
  return Array.from({ length: nClasses }, (_, c) => {
    const score = (s: number): number => probabilities[s * nClasses + c]!;
    for (let s = 0; s < n; s++) order[s] = s;
    order.sort((a, b) => score(a) - score(b));
    for (let start = 0; start < n; ) {
      let end = start + 1;
      while (end < n && score(order[end]!) === score(order[start]!)) end++;
      const midRank = (start + 1 + end) / 2; // ranks start+1..end share their mean
      for (let k = start; k < end; k++) ranks[order[k]!] = midRank;
      start = end;
    }
    let positives = 0;
    let positiveRankSum = 0;
    for (let s = 0; s < n; s++) {
      if (trueLabels[s] !== c) continue;
      positives++;
      positiveRankSum += ranks[s]!;
    }
    const negatives = n - positives;
    if (positives === 0 || negatives === 0) return null;
    return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
  });
}

function mostConfusedPairs(confusion: number[][], labels: readonly string[], topK: number): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  confusion.forEach((row, i) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      if (i === j || count === 0) return;
      pairs.push({ trueLabel: labels[i]!, predictedLabel: labels[j]!, trueIndex: i, predictedIndex: j, count, rate: count / support });
    });
  });
  // Largest count first; ties by larger rate, then by (true, predicted) index so the order is stable.
  pairs.sort((a, b) => b.count - a.count || b.rate - a.rate || a.trueIndex - b.trueIndex || a.predictedIndex - b.predictedIndex);
  return pairs.slice(0, Math.max(0, topK));
}

function meanCrossEntropy(probabilities: Float64Array, trueLabels: ArrayLike<number>, nClasses: number): number {
  let total = 0;
  for (let s = 0; s < trueLabels.length; s++) {
    total += probabilityCrossEntropy(probabilities[s * nClasses + trueLabels[s]!]!);
  }
  return total / trueLabels.length;
}

function flattenProbabilities(probabilities: NonNullable<EvaluateOptions['probabilities']>, n: number, nClasses: number): Float64Array {
  const flat = Float64Array.from(
    Array.isArray(probabilities) && Array.isArray(probabilities[0])
      ? (probabilities as number[][]).flat()
      : (probabilities as ArrayLike<number>),
  );
  if (flat.length !== n * nClasses) {
    throw new SerError(
      'EARG',
      MODULE,
      `probabilities has ${flat.length} values but ${n} samples x ${nClasses} classes = ${n * nClasses} were expected ([N, nClasses] row-major)`,
    );
  }
  const problems: string[] = [];
  for (let s = 0; s < n; s++) {
    let sum = 0;
    let finite = true;
    for (let c = 0; c < nClasses; c++) {
      const p = flat[s * nClasses + c]!;
      if (!Number.isFinite(p) || p < 0) finite = false;
      sum += p;
    }
    if (!finite || Math.abs(sum - 1) > 1e-3) problems.push(`row ${s} sums to ${sum}${finite ? '' : ' (has negative, NaN or Inf values)'}`);
  }
  if (problems.length > 0) {
    throw new SerError(
      'EARG',
      MODULE,
      `probabilities must be non-negative rows summing to 1 (apply softmax to logits first): ${listErrors(problems)}`,
    );
  }
  return flat;
}

function argMaxRows(values: Float64Array, n: number, nClasses: number): Int32Array {
  return Int32Array.from({ length: n }, (_, s) => argmax(values.subarray(s * nClasses, (s + 1) * nClasses)));
}

function checkIndices(name: string, values: ArrayLike<number>, nClasses: number): void {
  const problems: string[] = [];
  for (let s = 0; s < values.length; s++) {
    const v = values[s]!;
    if (!Number.isInteger(v) || v < 0 || v >= nClasses) problems.push(`${name}[${s}] = ${v}`);
  }
  if (problems.length > 0) {
    throw new SerError(
      'EARG',
      MODULE,
      `class indices must be integers in 0..${nClasses - 1} (${nClasses} labels): ${listErrors(problems)}`,
    );
  }
}

function listErrors(problems: string[]): string {
  const shown = problems.slice(0, MAX_LISTED_ERRORS).join(', ');
  return problems.length > MAX_LISTED_ERRORS ? `${shown} and ${problems.length - MAX_LISTED_ERRORS} more` : shown;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function weightedMean(perClass: ClassMetrics[], metric: (c: ClassMetrics) => number, total: number): number {
  return perClass.reduce((sum, c) => sum + c.support * metric(c), 0) / total;
}
