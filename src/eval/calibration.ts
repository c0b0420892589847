/**
 * Temperature scaling (Guo, Pleiss, Sun and Weinberger 2017, "On calibration of modern neural networks", §4.2): one
 * scalar T > 0 for a trained model, its probabilities softmax(logits / T), T fitted by the mean cross-entropy on
 * held-out recordings. A window's arg-max does not change; a recording's, the mean over its windows' tempered
 * probabilities, can (rarely: when its windows disagree), so accuracy and UAR can move slightly. T > 1 makes an overconfident
 * model's probabilities more cautious. A recording's probabilities are the mean over its windows, each tempered
 * first, as the deployable graph tempers each window (src/model/cnn-tm.ts calibratedLogits) and every inference path
 * then averages them.
 */
import { SerError } from '../errors.js';
import { type EvaluationReport, evaluate } from './metrics.js';
import { probabilityCrossEntropy, softmaxInto } from './probabilities.js';

/** The fit searches T = STEP^k over [1/4, 8] (k = -140 ... 209): 1% apart, T = 1 among them. */
const STEP = 1.01;
const LOWEST_K = -140;
const HIGHEST_K = 209;

/**
 * Recording probabilities [recordings, nClasses] at temperature `temperature`: softmax(window logits / T) for each
 * of the `counts[r]` consecutive windows of recording r ([sum(counts), nClasses] row-major), then their mean.
 */
export function temperedProbabilities(
  windowLogits: Float32Array,
  counts: ArrayLike<number>,
  nClasses: number,
  temperature: number,
): Float64Array {
  const total = Array.from(counts).reduce((a, b) => a + b, 0);
  if (windowLogits.length !== total * nClasses) {
    throw new SerError('ESHAPE', 'calibration', `${windowLogits.length} logits for ${total} windows of ${nClasses} classes`);
  }
  const out = new Float64Array(counts.length * nClasses);
  const scaled = new Float64Array(nClasses);
  const row = new Float64Array(nClasses);
  let w = 0;
  for (let r = 0; r < counts.length; r++) {
    const count = counts[r] as number;
    for (let i = 0; i < count; i++, w++) {
      for (let c = 0; c < nClasses; c++) scaled[c] = (windowLogits[w * nClasses + c] as number) / temperature;
      softmaxInto(scaled, row);
      for (let c = 0; c < nClasses; c++) out[r * nClasses + c]! += (row[c] as number) / count;
    }
  }
  return out;
}

/** Mean cross-entropy (nats) of recording probabilities against the true classes (probabilityCrossEntropy's floor). */
function meanCrossEntropy(probabilities: Float64Array, truth: ArrayLike<number>, nClasses: number): number {
  let sum = 0;
  for (let r = 0; r < truth.length; r++) sum += probabilityCrossEntropy(probabilities[r * nClasses + (truth[r] as number)] as number);
  return sum / truth.length;
}

export interface TemperatureFit {
  /** The fitted T (one of the searched values). */
  temperature: number;
  /** Mean cross-entropy of the recordings at T, and at T = 1 (the model as it was). */
  crossEntropy: number;
  crossEntropyUntempered: number;
}

/**
 * The temperature with the least mean cross-entropy of the recordings (windows' logits and counts as
 * temperedProbabilities takes them, `truth` their classes), searched on a grid 1% apart over [1/4, 8]: the mean
 * over windows makes the loss not convex in 1/T in general, and a grid has no start point or tolerance to choose.
 * A fit at the grid's edge means the model's logits are nearly constant or nearly always right; it is returned as is.
 */
export function fitTemperature(
  windowLogits: Float32Array,
  counts: ArrayLike<number>,
  truth: ArrayLike<number>,
  nClasses: number,
): TemperatureFit {
  if (truth.length === 0) throw new SerError('EDATA', 'calibration', 'no recordings to fit a temperature on');
  if (truth.length !== counts.length) {
    throw new SerError('ESHAPE', 'calibration', `${truth.length} true classes for ${counts.length} recordings`);
  }
  const lossAt = (temperature: number): number =>
    meanCrossEntropy(temperedProbabilities(windowLogits, counts, nClasses, temperature), truth, nClasses);
  let best = { temperature: 1, crossEntropy: lossAt(1) };
  const crossEntropyUntempered = best.crossEntropy;
  for (let k = LOWEST_K; k <= HIGHEST_K; k++) {
    if (k === 0) continue;
    const temperature = STEP ** k;
    const crossEntropy = lossAt(temperature);
    if (crossEntropy < best.crossEntropy) best = { temperature, crossEntropy };
  }
  return { ...best, crossEntropyUntempered };
}

/** A part of the run scored untempered (T = 1) and at the fitted temperature. */
export interface CalibratedPart {
  recordings: number;
  untempered: EvaluationReport;
  calibrated: EvaluationReport;
}

/**
 * The temperature fitted on recordings' window logits (fitTemperature above), to four decimals: what
 * config.json holds is the temperature the model uses and its reports are scored at.
 */
export function fittedTemperature(
  windowLogits: Float32Array,
  counts: ArrayLike<number>,
  truth: ArrayLike<number>,
  nClasses: number,
): number {
  return Number(fitTemperature(windowLogits, counts, truth, nClasses).temperature.toFixed(4));
}

/** Recordings (their window logits, window counts, classes, speakers) scored untempered and at `temperature`. */
export function calibratedPart(
  windowLogits: Float32Array,
  counts: ArrayLike<number>,
  truth: ArrayLike<number>,
  labels: readonly string[],
  temperature: number,
  speakers?: readonly string[],
): CalibratedPart {
  const at = (t: number): EvaluationReport =>
    evaluate(truth, null, labels, {
      probabilities: Float32Array.from(temperedProbabilities(windowLogits, counts, labels.length, t)),
      ...(speakers ? { speakers } : {}),
    });
  return { recordings: truth.length, untempered: at(1), calibrated: at(temperature) };
}

/** metrics.json's `calibration` record: the temperature and [untempered, calibrated] cross-entropy and ECE per part. */
export function calibrationJson(
  temperature: number,
  validation: CalibratedPart | null,
  test: CalibratedPart | null,
  fittedOn: 'validation' | 'given' = 'validation',
): Record<string, unknown> {
  const summary = (part: CalibratedPart | null) =>
    part && {
      recordings: part.recordings,
      cross_entropy: [part.untempered.crossEntropy, part.calibrated.crossEntropy],
      ece: [part.untempered.calibration?.ece ?? null, part.calibrated.calibration?.ece ?? null],
    };
  return { temperature, fitted_on: fittedOn, validation: summary(validation), test: summary(test) };
}
