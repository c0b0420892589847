/** Scores per corpus of a test part that holds several (ser train's and ser calibrate's metrics.json `per_corpus`). */
import type { Utterance } from '../data/corpus.js';
import { type EvaluationReport, evaluate } from '../eval/index.js';

/** The test utterances of each corpus scored alone, when the test part holds more than one corpus. */
export function perCorpusReports(
  utterances: readonly Utterance[],
  y: Int32Array,
  probabilities: Float32Array,
  labels: readonly string[],
  sources: readonly string[],
): Record<string, EvaluationReport> {
  const present = sources.filter((tag) => utterances.some((u) => u.source === tag));
  if (present.length < 2) return {};
  const n = labels.length;
  const out: Record<string, EvaluationReport> = {};
  for (const tag of present) {
    const rows = utterances.flatMap((u, i) => (u.source === tag ? [i] : []));
    const p = new Float32Array(rows.length * n);
    for (const [k, row] of rows.entries()) p.set(probabilities.subarray(row * n, (row + 1) * n), k * n);
    out[tag] = evaluate(
      rows.map((row) => y[row] as number),
      null,
      labels,
      { probabilities: p },
    );
  }
  return out;
}
