/**
 * An ensemble of trained runs on speakers none of them heard (issue 9): each run's class probabilities of a
 * recording (its windows averaged, as `ser predict`), then the mean over the runs. Prints accuracy, UAR and recall
 * per class of each run alone and of the ensemble, and the ensemble against each run paired recording by
 * recording (McNemar's exact test).
 *
 *   npx tsx bench/ensemble.ts --model default --model runs/abl40-full-seed1 [--speakers ravdess/13,...,ravdess/18]
 *   npx tsx bench/ensemble.ts --test-part --model runs/seed0 --model runs/seed1 [--reference runs/ens-earlier]
 *   npx tsx bench/ensemble.ts --model A --model B --predictions /tmp/ens-ab.csv   # then: ser compare /tmp/ens-ab.csv OTHER.csv
 *
 * With --test-part the recordings are the first run's test part (its corpora and classes, from its config.json and
 * split.json) instead of speakers: for runs that share a split (`ser train --split-seed`), e.g. a random one.
 *
 * A `--reference` run (e.g. an earlier ensemble folder of `ser ensemble`) is scored and paired with the ensemble like
 * a member, but not averaged into it. `--predictions FILE` writes the ensemble's per-recording predictions in
 * predictions.csv's format, so two ensembles that cannot be one `ser ensemble` folder can still be paired.
 *
 * `default` is the shipped model. The runs must share the class list (in order) and none may have trained on the
 * speakers given (the script cannot check the latter beyond what their split.json says: it refuses a run whose
 * training or validation part holds one of the recordings).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractUtteranceLogMels } from '../src/data/index.js';
import { loadSplit } from '../src/data/splits.js';
import { predictionsCsv } from '../src/eval/index.js';
import type { FrontEndConfig } from '../src/features/config.js';
import { RunModel, defaultModelDir } from '../src/infer/inference.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { packageRoot } from '../src/io/paths.js';
import { argmaxRows, heldOutUtterances, joinedWindows, pairedLines, runPartUtterances, scoreRow } from './held-out-speakers.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: [] },
    reference: { type: 'string', multiple: true, default: [] },
    speakers: { type: 'string', default: ['13', '14', '15', '16', '17', '18'].map((a) => `ravdess/${a}`).join(',') },
    data: { type: 'string', default: `${packageRoot()}/../shared/data` },
    threads: { type: 'string', default: '1' },
    'test-part': { type: 'boolean', default: false },
    predictions: { type: 'string' },
  },
});
const names = [...args.model, ...args.reference];
const dirs = names.map((m) => (m === 'default' ? defaultModelDir() : m));
if (args.model.length < 1) throw new Error('give --model RUN_DIR at least once');
const wanted = new Set(args.speakers.split(','));
const utterances = args['test-part'] ? runPartUtterances(dirs[0] as string, 'test') : heldOutUtterances(args.data, wanted);
const source = args['test-part'] ? `the test part of ${args.model[0]}` : `${wanted.size} speakers`;

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
  const { windows, counts } = joinedWindows(extracted.logMels, config);
  const probabilities = await model.recordingProbabilities(windows, counts);
  return { probabilities, kept: extracted.kept as typeof utterances };
}

const results = [];
for (const model of models) results.push(await probabilitiesOf(model));
const kept = results[0]?.kept ?? [];
if (results.some((r) => r.kept.length !== kept.length)) throw new Error('the runs kept different recordings (front ends differ)');
const truth = kept.map((u) => labels.indexOf(u.label));
const skipped = utterances.length - kept.length;
console.log(`${kept.length} recordings of ${source}${skipped > 0 ? ` (${skipped} unreadable or too short, skipped)` : ''}`);
console.log(`| model | accuracy | UAR | recall ${labels.join(' / ')} |`);
console.log('| --- | --- | --- | --- |');
results.forEach((r, i) => {
  const role = i < args.model.length ? '' : ' (reference)';
  console.log(scoreRow(`${names[i]}${role}`, labels, truth, argmaxRows(r.probabilities, labels.length)));
});
const members = results.slice(0, args.model.length);
const mean = new Float64Array(kept.length * labels.length);
for (const r of members) for (let i = 0; i < mean.length; i++) mean[i]! += (r.probabilities[i] as number) / members.length;
console.log(scoreRow(`mean of the ${members.length}`, labels, truth, argmaxRows(mean, labels.length)));

// Paired comparison with each run (McNemar's exact test): recordings only one of the two gets right.
const paired = results.map((r, k) => ({ name: names[k] as string, predicted: argmaxRows(r.probabilities, labels.length) }));
for (const line of pairedLines('ensemble', truth, argmaxRows(mean, labels.length), paired)) console.log(line);

if (args.predictions) {
  const recordings = kept.map((u) => ({ id: u.id, path: u.path, speaker: u.speaker }));
  writeFileAtomic(args.predictions, predictionsCsv(recordings, truth, mean, labels));
  console.log(`the ensemble's predictions: ${args.predictions}`);
}

for (const model of models) await model.release();
