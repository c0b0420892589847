/**
 * An ensemble of trained runs on speakers none of them heard (issue 9): each run's class probabilities of a
 * recording (its windows averaged, as `ser predict`), then the mean over the runs. Prints accuracy, UAR and recall
 * per class of each run alone and of the ensemble, and the ensemble against the first run paired recording by
 * recording (McNemar's exact test).
 *
 *   npx tsx bench/ensemble.ts --model default --model runs/abl40-full-seed1 [--speakers ravdess/13,...,ravdess/18]
 *
 * `default` is the shipped model. The runs must share the class list (in order) and none may have trained on the
 * speakers given (the script cannot check the latter beyond what their split.json says: it refuses a run whose
 * training or validation part holds one of the recordings).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractUtteranceLogMels } from '../src/data/index.js';
import { loadSplit } from '../src/data/splits.js';
import type { FrontEndConfig } from '../src/features/config.js';
import { utteranceWindows } from '../src/features/utterance.js';
import { RunModel, defaultModelDir } from '../src/infer/inference.js';
import { packageRoot } from '../src/io/paths.js';
import { argmaxRows, heldOutUtterances, scoreRow } from './held-out-speakers.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: [] },
    speakers: { type: 'string', default: ['13', '14', '15', '16', '17', '18'].map((a) => `ravdess/${a}`).join(',') },
    data: { type: 'string', default: `${packageRoot()}/../shared/data` },
    threads: { type: 'string', default: '1' },
  },
});
const dirs = args.model.map((m) => (m === 'default' ? defaultModelDir() : m));
if (dirs.length < 1) throw new Error('give --model RUN_DIR at least once');
const wanted = new Set(args.speakers.split(','));
const utterances = heldOutUtterances(args.data, wanted);

const models = await Promise.all(dirs.map((dir) => RunModel.load(dir, { threads: Number(args.threads) })));
const labels = models[0]?.config.labels ?? [];
for (const [i, model] of models.entries()) {
  if (model.config.labels.join() !== labels.join()) throw new Error(`${dirs[i]}: classes ${model.config.labels} differ from ${labels}`);
  const { parts } = loadSplit(join(model.runDir, 'split.json'));
  const training = new Set([...parts.train, ...parts.validation]);
  const seen = utterances.filter((u) => training.has(u.id));
  if (seen.length > 0) throw new Error(`${dirs[i]} trained on ${seen.length} of these recordings (${seen[0]?.id})`);
}

/** The recordings' log-mels, extracted once per front end and length read (members usually share both). */
const extractions = new Map<string, ReturnType<typeof extractUtteranceLogMels>>();
function logMelsFor(maxS: number, frontEnd: FrontEndConfig): ReturnType<typeof extractUtteranceLogMels> {
  const key = JSON.stringify([maxS, frontEnd]);
  if (!extractions.has(key)) extractions.set(key, extractUtteranceLogMels(utterances, { maxS, frontEnd }));
  return extractions.get(key) as ReturnType<typeof extractUtteranceLogMels>;
}

/** Each recording's class probabilities [recordings, nClasses] under `model`, and the recordings kept. */
async function probabilitiesOf(model: RunModel): Promise<{ probabilities: Float32Array; kept: typeof utterances }> {
  const { config } = model;
  const recipe = config.recipe;
  if (!recipe) throw new Error(`${model.runDir}: a run without a recipe`);
  const extracted = await logMelsFor(recipe.input.maxS, config.frontEnd);
  const windows = extracted.logMels.map((m) => utteranceWindows(m, config.model.frames, recipe.input, config.frontEnd.topDb));
  const joined = new Float32Array(windows.reduce((n, w) => n + w.windows.length, 0));
  let at = 0;
  for (const w of windows) {
    joined.set(w.windows, at);
    at += w.windows.length;
  }
  const probabilities = await model.recordingProbabilities(
    joined,
    windows.map((w) => w.count),
  );
  return { probabilities, kept: extracted.kept as typeof utterances };
}

const results = [];
for (const model of models) results.push(await probabilitiesOf(model));
const kept = results[0]?.kept ?? [];
if (results.some((r) => r.kept.length !== kept.length)) throw new Error('the runs kept different recordings (front ends differ)');
const truth = kept.map((u) => labels.indexOf(u.label));
const skipped = utterances.length - kept.length;
console.log(`${kept.length} recordings of ${wanted.size} speakers${skipped > 0 ? ` (${skipped} unreadable or too short, skipped)` : ''}`);
console.log(`| model | accuracy | UAR | recall ${labels.join(' / ')} |`);
console.log('| --- | --- | --- | --- |');
results.forEach((r, i) => {
  console.log(scoreRow(args.model[i] as string, labels, truth, argmaxRows(r.probabilities, labels.length)));
});
const mean = new Float64Array(kept.length * labels.length);
for (const r of results) for (let i = 0; i < mean.length; i++) mean[i]! += (r.probabilities[i] as number) / results.length;
console.log(scoreRow(`mean of the ${results.length}`, labels, truth, argmaxRows(mean, labels.length)));

// Paired comparison with the first run (McNemar's exact test): recordings only one of the two gets right.
const first = argmaxRows(results[0]?.probabilities as Float32Array, labels.length);
const ensemble = argmaxRows(mean, labels.length);
const onlyFirst = truth.filter((y, i) => first[i] === y && ensemble[i] !== y).length;
const onlyEnsemble = truth.filter((y, i) => first[i] !== y && ensemble[i] === y).length;
console.log(
  `paired with ${args.model[0]}: ${onlyEnsemble} recordings right only in the ensemble, ${onlyFirst} only in ${args.model[0]}; ` +
    `McNemar exact two-sided p = ${mcNemarExact(onlyFirst, onlyEnsemble).toPrecision(3)}`,
);

/** Two-sided exact McNemar p-value: P(a result as uneven as b : c) under Binomial(b + c, 1/2). */
function mcNemarExact(b: number, c: number): number {
  const n = b + c;
  const k = Math.min(b, c);
  let tail = 0;
  let term = 0.5 ** n; // C(n, 0) / 2^n
  for (let i = 0; i <= k; i++) {
    tail += term;
    term *= (n - i) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}
for (const model of models) await model.release();
