/**
 * What a model said about each recording, one CSV row per recording: `predictions.csv` of a run's test part
 * (`ser train`, again at the temperature by `ser calibrate`) and `ser eval --predictions FILE`. Columns:
 *
 *   id, path, speaker, true, predicted, correct, p_<class> for each of the model's classes in its order
 *
 * `id` is the recording as split.json names it (its path under the corpus root, `tag/...` in a mixture), `path`
 * the file, `correct` 1 or 0, the probabilities those of the recording (its windows averaged, tempered when the
 * model is) to six decimals; `predicted` is the arg max of the unrounded probabilities, as every metric uses.
 *
 * Two such files over the same recordings are compared recording by recording with `pairedComparison`
 * (McNemar's exact test; `ser compare`), so two runs can be paired after their models are gone.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { csvField, parseCsvRecords } from '../data/csv.js';
import { SerError } from '../errors.js';
import { argmax } from './probabilities.js';

/** The name of a run's per-recording predictions of its test part. */
export const PREDICTIONS_FILE = 'predictions.csv';

/** A scored recording: how predictions.csv names it. */
export interface ScoredRecording {
  id: string;
  path: string;
  speaker: string;
}

/**
 * The CSV text of `recordings` with their true class indices `truth` and `probabilities` [recordings, classes]
 * (row-major) over `labels`.
 */
export function predictionsCsv(
  recordings: readonly ScoredRecording[],
  truth: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  labels: readonly string[],
): string {
  const k = labels.length;
  if (truth.length !== recordings.length || probabilities.length !== recordings.length * k) {
    throw new RangeError(
      `predictionsCsv: ${recordings.length} recordings, ${truth.length} true classes and ${probabilities.length} probabilities ` +
        `(expected ${recordings.length} x ${k})`,
    );
  }
  const header = ['id', 'path', 'speaker', 'true', 'predicted', 'correct', ...labels.map((label) => `p_${label}`)];
  const lines = [header.map(csvField).join(',')];
  recordings.forEach((recording, i) => {
    const row = Array.from({ length: k }, (_, c) => probabilities[i * k + c] as number);
    const predicted = argmax(row);
    const fields = [
      recording.id,
      recording.path,
      recording.speaker,
      labels[truth[i] as number]!,
      labels[predicted]!,
      predicted === truth[i] ? '1' : '0',
      ...row.map((p) => p.toFixed(6)),
    ];
    lines.push(fields.map(csvField).join(','));
  });
  return lines.join('\n') + '\n';
}

/** A row of predictions.csv as pairing needs it. */
export interface PredictionRow {
  id: string;
  true: string;
  predicted: string;
}

/** Reads predictions.csv text (`source` names it in errors): the id, true and predicted class of each recording. */
export function parsePredictionsCsv(text: string, source: string): PredictionRow[] {
  const { header, records } = parseCsvRecords(text, source);
  const missing = ['id', 'true', 'predicted'].filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new SerError(
      'EFORMAT',
      'predictions',
      `${source}: no column ${missing.join(', ')} (a predictions.csv of ser train or ser eval --predictions has id, path, speaker, true, predicted, ...)`,
    );
  }
  return records.map((record) => ({ id: record.id!, true: record.true!, predicted: record.predicted! }));
}

/** The predictions file `where` names: the file itself, or a run folder's predictions.csv (EIO when it does not exist). */
export function predictionsFilePath(where: string): string {
  const path = existsSync(where) && statSync(where).isDirectory() ? join(where, PREDICTIONS_FILE) : where;
  if (!existsSync(path)) {
    throw new SerError(
      'EIO',
      'predictions',
      `${path}: no such file (a run of ser train writes predictions.csv for its test part; ser eval --predictions FILE.csv for any corpus)`,
    );
  }
  return path;
}

/** Reads `where`: a predictions.csv file, or a run folder holding one. */
export function readPredictions(where: string): PredictionRow[] {
  const path = predictionsFilePath(where);
  return parsePredictionsCsv(readFileSync(path, 'utf8'), path);
}

/** Two models' predictions of the same recordings, paired. */
export interface PairedComparison {
  recordings: number;
  /** Recordings both get right, only the first, only the second, neither. */
  both: number;
  onlyFirst: number;
  onlySecond: number;
  neither: number;
  /** McNemar's exact two-sided p-value of onlyFirst against onlySecond (`mcNemarExactP`). */
  p: number;
  /** Accuracy and unweighted average recall (over the true classes present) of the first and the second. */
  accuracy: [number, number];
  uar: [number, number];
}

/**
 * Pairs two predictions of the same recordings by id. Both must hold the same recordings with the same true
 * classes (else EDATA naming the first difference); `names` name the two in errors.
 */
export function pairedComparison(
  first: readonly PredictionRow[],
  second: readonly PredictionRow[],
  names: [string, string] = ['first', 'second'],
): PairedComparison {
  const byId = new Map(second.map((row) => [row.id, row]));
  const firstIds = new Set(first.map((row) => row.id));
  if (byId.size !== second.length || firstIds.size !== first.length) {
    throw new SerError('EDATA', 'predictions', `${names.join(' or ')}: a recording id occurs twice`);
  }
  const extra = second.find((row) => !firstIds.has(row.id));
  if (first.length !== second.length || extra) {
    throw new SerError(
      'EDATA',
      'predictions',
      `${names[0]} has ${first.length} recordings, ${names[1]} ${second.length}${extra ? ` (${extra.id} only in ${names[1]})` : ''}: ` +
        'pairing needs the same recordings (the same test part)',
    );
  }
  const counts = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 };
  for (const row of first) {
    const other = byId.get(row.id);
    if (!other) throw new SerError('EDATA', 'predictions', `${row.id} is in ${names[0]} but not in ${names[1]}`);
    if (other.true !== row.true) {
      throw new SerError('EDATA', 'predictions', `${row.id}: true class ${row.true} in ${names[0]}, ${other.true} in ${names[1]}`);
    }
    const a = row.predicted === row.true;
    const b = other.predicted === other.true;
    if (a && b) counts.both++;
    else if (a) counts.onlyFirst++;
    else if (b) counts.onlySecond++;
    else counts.neither++;
  }
  return {
    recordings: first.length,
    ...counts,
    p: mcNemarExactP(counts.onlyFirst, counts.onlySecond),
    accuracy: [(counts.both + counts.onlyFirst) / first.length, (counts.both + counts.onlySecond) / first.length],
    uar: [unweightedAverageRecall(first), unweightedAverageRecall(second)],
  };
}

/** Mean over the true classes present of the share of their recordings predicted as that class. */
function unweightedAverageRecall(rows: readonly PredictionRow[]): number {
  const perClass = new Map<string, { right: number; all: number }>();
  for (const row of rows) {
    const tally = perClass.get(row.true) ?? { right: 0, all: 0 };
    tally.all++;
    if (row.predicted === row.true) tally.right++;
    perClass.set(row.true, tally);
  }
  const recalls = [...perClass.values()].map((t) => t.right / t.all);
  return recalls.reduce((sum, r) => sum + r, 0) / recalls.length;
}

/**
 * McNemar's exact test, two-sided (McNemar 1947; the exact form is a sign test on the discordant pairs): with b
 * recordings right only under one model and c only under the other, under "equally good" b ~ Binomial(b + c, 1/2),
 * and
 *
 *   p = min(1, 2 · Σ_{i=0}^{min(b,c)} C(b + c, i) / 2^(b + c))
 *
 * as scipy.stats.binomtest(b, b + c, 0.5).pvalue (1 when b + c = 0). The terms are summed in logs, each from the
 * last by C(n, i + 1) = C(n, i) · (n - i) / (i + 1), so thousands of discordant pairs do not underflow.
 */
export function mcNemarExactP(b: number, c: number): number {
  const n = b + c;
  const logTerms: number[] = [];
  let logTerm = -n * Math.LN2;
  for (let i = 0; i <= Math.min(b, c); i++) {
    logTerms.push(logTerm);
    logTerm += Math.log(n - i) - Math.log(i + 1);
  }
  const largest = logTerms.reduce((max, t) => Math.max(max, t), Number.NEGATIVE_INFINITY);
  const tail = Math.exp(largest) * logTerms.reduce((sum, t) => sum + Math.exp(t - largest), 0);
  return Math.min(1, 2 * tail);
}
