/**
 * What the bench scripts that score models on held-out speakers share: reading the recordings of speakers named
 * `corpus/speaker` (ravdess/13) from the shared corpora with the six classes, or a part of a run's own split, a run's
 * model windows of their log-mels, and one table row of accuracy, UAR and recall per class.
 */
import { join } from 'node:path';
import { type CorpusName, type Utterance, loadCorpus } from '../src/data/corpus.js';
import { loadCorpora } from '../src/data/mixture.js';
import { loadSplit } from '../src/data/splits.js';
import { mcNemarExactP } from '../src/eval/predictions.js';
import type { Spectrogram } from '../src/features/index.js';
import { utteranceWindows } from '../src/features/utterance.js';
import { type RunConfig, configLabelSpace, configSources } from '../src/train/run-config.js';
import { readRunConfig } from '../src/train/run-dir.js';

/** The recordings of `speakers` (`corpus/speaker`), speakers and ids namespaced by corpus as a mixture does. */
export function heldOutUtterances(dataDir: string, speakers: ReadonlySet<string>): Utterance[] {
  const corpora = [...new Set([...speakers].map((s) => s.split('/')[0] as string))];
  return corpora
    .flatMap((name) =>
      loadCorpus({ dataset: name as CorpusName, path: `${dataDir}/${name}`, labels: 'six' }).utterances.map((u) => ({
        ...u,
        speaker: `${name}/${u.speaker}`,
        id: `${name}/${u.id}`,
      })),
    )
    .filter((u) => speakers.has(u.speaker));
}

/** The recordings of one part of a run's split (split.json), read from its corpora with its class list (config.json). */
export function runPartUtterances(dir: string, part: 'train' | 'validation' | 'test'): Utterance[] {
  const config = readRunConfig(dir);
  const ids = new Set(loadSplit(join(dir, 'split.json')).parts[part]);
  return loadCorpora(configSources(config), { labels: configLabelSpace(config) }).utterances.filter((u) => ids.has(u.id));
}

/** `| name | accuracy | UAR | recall per class |` of predicted classes against true ones (class indices). */
export function scoreRow(name: string, labels: readonly string[], truth: readonly number[], predicted: readonly number[]): string {
  const hits = new Array<number>(labels.length).fill(0);
  const support = new Array<number>(labels.length).fill(0);
  truth.forEach((y, i) => {
    support[y]!++;
    if (predicted[i] === y) hits[y]!++;
  });
  const present = support.filter((n) => n > 0).length;
  const accuracy = hits.reduce((a, b) => a + b, 0) / truth.length;
  const uar = hits.reduce((s, h, c) => s + (support[c] ? h / (support[c] as number) : 0), 0) / present;
  const recalls = hits.map((h, c) => (support[c] ? Math.round((100 * h) / (support[c] as number)) : '-')).join(' / ');
  return `| ${name} | ${(100 * accuracy).toFixed(2)}% | ${(100 * uar).toFixed(2)}% | ${recalls} |`;
}

/**
 * One line per member: the recordings right only with `combined` (e.g. an ensemble's predicted classes), those right
 * only with the member, and McNemar's exact two-sided p of the two counts.
 */
export function pairedLines(
  combinedName: string,
  truth: readonly number[],
  combined: readonly number[],
  members: ReadonlyArray<{ name: string; predicted: readonly number[] }>,
): string[] {
  return members.map(({ name, predicted }) => {
    const onlyMember = truth.filter((y, i) => predicted[i] === y && combined[i] !== y).length;
    const onlyCombined = truth.filter((y, i) => predicted[i] !== y && combined[i] === y).length;
    return (
      `paired with ${name}: ${onlyCombined} recordings right only in the ${combinedName}, ${onlyMember} only in ${name}; ` +
      `McNemar exact two-sided p = ${mcNemarExactP(onlyMember, onlyCombined).toPrecision(3)}`
    );
  });
}

/** The most probable class of each row of `probabilities` [rows, nClasses]. */
export function argmaxRows(probabilities: ArrayLike<number>, nClasses: number): number[] {
  return Array.from({ length: probabilities.length / nClasses }, (_, i) => {
    let best = 0;
    for (let c = 1; c < nClasses; c++) if (probabilities[i * nClasses + c]! > probabilities[i * nClasses + best]!) best = c;
    return best;
  });
}

/**
 * The windows a run's model sees of each recording (as `ser predict` makes them: its recipe's crops), joined into one
 * array [sum(counts), nMels, frames], and how many belong to each recording.
 */
export function joinedWindows(logMels: readonly Spectrogram[], config: RunConfig): { windows: Float32Array; counts: number[] } {
  const recipe = config.recipe;
  if (!recipe) throw new Error('a run without a recipe (made before recipes existed): its windows are not known');
  const perRecording = logMels.map((m) => utteranceWindows(m, config.model.frames, recipe.input, config.frontEnd.topDb));
  const windows = new Float32Array(perRecording.reduce((n, w) => n + w.windows.length, 0));
  let at = 0;
  for (const w of perRecording) {
    windows.set(w.windows, at);
    at += w.windows.length;
  }
  return { windows, counts: perRecording.map((w) => w.count) };
}
