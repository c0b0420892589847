/**
 * Class scores on the host (JavaScript numbers, not graph nodes): arg-max, softmax, cross-entropy and the
 * mean over a recording's windows. One definition each for training metrics, evaluation, `ser predict` and the
 * browser. Sums and exponentials run in float64; rows are [count, nClasses] row-major.
 */

/** Probabilities below this count as this in a cross-entropy (-ln 1e-15 = 34.5 nats at most per sample). */
export const CROSS_ENTROPY_EPS = 1e-15;

/** Index of the largest value of `row` (the lowest index among equals). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if ((row[c] as number) > (row[best] as number)) best = c;
  return best;
}

/** The largest logit of a row and Σ exp(x - max): the overflow-free parts of softmax and log-sum-exp. */
function shiftedExpSum(row: ArrayLike<number>): { max: number; sum: number } {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < row.length; c++) max = Math.max(max, row[c] as number);
  let sum = 0;
  for (let c = 0; c < row.length; c++) sum += Math.exp((row[c] as number) - max);
  return { max, sum };
}

/** Softmax of one row of logits into `out` (float64): exp(x - max) / Σ exp(x - max). */
export function softmaxInto(row: ArrayLike<number>, out: Float64Array): Float64Array {
  const { max, sum } = shiftedExpSum(row);
  for (let c = 0; c < row.length; c++) out[c] = Math.exp((row[c] as number) - max) / sum;
  return out;
}

/** Softmax of each row of logits [count, nClasses], in float64 then rounded to float32. */
export function softmaxRows(logits: Float32Array, nClasses: number): Float32Array {
  const out = new Float32Array(logits.length);
  const row = new Float64Array(nClasses);
  for (let start = 0; start < logits.length; start += nClasses) {
    out.set(softmaxInto(logits.subarray(start, start + nClasses), row), start);
  }
  return out;
}

/** Cross-entropy (nats) of one row of logits against class `label`: log Σ exp(x) - x[label], by log-sum-exp. */
export function logitCrossEntropy(row: ArrayLike<number>, label: number): number {
  const { max, sum } = shiftedExpSum(row);
  return max + Math.log(sum) - (row[label] as number);
}

/** Cross-entropy (nats) of a probability given to the true class: -ln max(p, CROSS_ENTROPY_EPS). */
export function probabilityCrossEntropy(p: number): number {
  return -Math.log(Math.max(p, CROSS_ENTROPY_EPS));
}

/**
 * Per-utterance probabilities [utterances, nClasses] from per-window ones [sum(windows), nClasses]: the mean over
 * each utterance's `windows[i]` consecutive rows (float64 sums), as every inference path averages test-time crops.
 */
export function averageWindowProbabilities(windowRows: Float32Array, windows: ArrayLike<number>, nClasses: number): Float32Array {
  const out = new Float32Array(windows.length * nClasses);
  let row = 0;
  for (let i = 0; i < windows.length; i++) {
    const count = windows[i] as number;
    for (let c = 0; c < nClasses; c++) {
      let sum = 0;
      for (let w = 0; w < count; w++) sum += windowRows[(row + w) * nClasses + c] as number;
      out[i * nClasses + c] = sum / count;
    }
    row += count;
  }
  return out;
}
