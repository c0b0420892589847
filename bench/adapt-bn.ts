/**
 * AdaBN across speakers, paired (issue 9; Li et al. 2016, "Revisiting batch normalization for practical domain
 * adaptation"): the shipped model's BatchNorm running statistics re-estimated on the input windows of unlabelled
 * recordings of the target speakers (CnnTmTrainer.recalibrateBatchNorm: dropout off, full batches; weights
 * untouched), then scored on RAVDESS actors 13-18, which the shipped model never heard.
 *
 *   npx tsx bench/adapt-bn.ts [--model default] [--data ../shared/data] [--threads 1]
 *
 * Rows: the model as it is; fold A adapted on actors 13-15's audio and tested on 16-18, fold B the reverse, pooled
 * (adaptation on other speakers of the target corpus: labels never used); each actor adapted on his or her own
 * recordings (transductive, per speaker); all six adapted together on their own audio (transductive). Each row is
 * paired with the model as it is on the same recordings (McNemar's exact test). bench/test-time-adaptation.ts has
 * the transductive all-speakers case beside test-time warps, unpaired; this script adds the cross-speaker protocol
 * a user would have (unlabelled recordings of their speakers to adapt on, others to classify) and the pairing.
 */
import { parseArgs } from 'node:util';
import type { Utterance } from '../src/data/corpus.js';
import { extractUtteranceLogMels } from '../src/data/index.js';
import { mcNemarExactP } from '../src/eval/index.js';
import { RunModel, defaultModelDir } from '../src/infer/inference.js';
import { rebuildModelOnnx } from '../src/model/ensemble.js';
import { CnnTmTrainer } from '../src/model/trainer.js';
import { packageRoot } from '../src/io/paths.js';
import { readInitialModel } from '../src/train/fine-tune.js';
import { argmaxRows, heldOutUtterances, joinedWindows, scoreRow } from './held-out-speakers.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'default' },
    data: { type: 'string', default: `${packageRoot()}/../shared/data` },
    threads: { type: 'string', default: '1' },
  },
});
const threads = Number(args.threads);
const dir = args.model === 'default' ? defaultModelDir() : args.model;
const initial = readInitialModel(dir);
const { config } = initial;
const labels = config.labels;
const actors = ['13', '14', '15', '16', '17', '18'];
const all = heldOutUtterances(args.data, new Set(actors.map((a) => `ravdess/${a}`)));
const recipe = config.recipe;
if (!recipe) throw new Error(`${dir}: a run without a recipe`);
const extracted = await extractUtteranceLogMels(all, { maxS: recipe.input.maxS, frontEnd: config.frontEnd });
const kept = extracted.kept as Utterance[];
const { windows, counts } = joinedWindows(extracted.logMels, config);
const clipSize = config.model.nMels * config.model.frames;
const offsets = [0];
for (const c of counts) offsets.push((offsets.at(-1) as number) + c);
const truth = kept.map((u) => labels.indexOf(u.label));

/** The input windows of the recordings `which` (indices into kept), joined. */
function windowsOf(which: readonly number[]): { x: Float32Array; count: number } {
  const count = which.reduce((n, i) => n + (counts[i] as number), 0);
  const x = new Float32Array(count * clipSize);
  let at = 0;
  for (const i of which) {
    const part = windows.subarray((offsets[i] as number) * clipSize, (offsets[i + 1] as number) * clipSize);
    x.set(part, at);
    at += part.length;
  }
  return { x, count };
}

/** Each recording's predicted class under the model with BN statistics from `adaptOn` (null: as it is). */
async function predictions(adaptOn: readonly number[] | null, scoreOn: readonly number[]): Promise<Map<number, number>> {
  let bytes: Uint8Array | null = null;
  if (adaptOn) {
    const { temperature: _t, ...untempered } = config.model;
    const trainer = await CnnTmTrainer.create(untempered, { batchSize: config.hyper.batchSize, lr: 1e-4, seed: 0, threads });
    try {
      trainer.loadState(initial.weights);
      const { x, count } = windowsOf(adaptOn);
      // Shuffled so that each batch mixes speakers and classes as a training batch would (fixed seed: repeatable).
      const order = Array.from({ length: count }, (_, i) => i);
      let state = 12345;
      for (let i = count - 1; i > 0; i--) {
        state = (state * 1103515245 + 12345) >>> 0;
        const j = state % (i + 1);
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
      await trainer.recalibrateBatchNorm(x, count, order);
      bytes = rebuildModelOnnx(trainer.exportOnnx('dynamic'), config.model);
    } finally {
      await trainer.release();
    }
  }
  const model = bytes ? await RunModel.fromBytes(dir, config, bytes, { threads }) : await RunModel.load(dir, { threads });
  try {
    const { x } = windowsOf(scoreOn);
    const probabilities = await model.recordingProbabilities(
      x,
      scoreOn.map((i) => counts[i] as number),
    );
    const predicted = argmaxRows(probabilities, labels.length);
    return new Map(scoreOn.map((i, k) => [i, predicted[k] as number]));
  } finally {
    await model.release();
  }
}

const of = (speakers: readonly string[]) => kept.flatMap((u, i) => (speakers.includes(u.speaker.split('/')[1] as string) ? [i] : []));
const everyone = kept.map((_, i) => i);
const asIs = await predictions(null, everyone);
const foldA = await predictions(of(['13', '14', '15']), of(['16', '17', '18']));
const foldB = await predictions(of(['16', '17', '18']), of(['13', '14', '15']));
const crossFold = new Map([...foldA, ...foldB]);
const perSpeaker = new Map<number, number>();
for (const actor of actors) for (const [i, p] of await predictions(of([actor]), of([actor]))) perSpeaker.set(i, p);
const together = await predictions(everyone, everyone);

console.log(`${kept.length} recordings of RAVDESS actors 13-18 (${all.length - kept.length} unusable), model ${dir}`);
console.log(`| model | accuracy | UAR | recall ${labels.join(' / ')} | paired with the model as it is |`);
console.log('| --- | --- | --- | --- | --- |');
for (const [name, predicted] of [
  ['as it is', asIs],
  ['AdaBN on the other three actors (folds A + B)', crossFold],
  ['AdaBN per actor, on his or her own recordings', perSpeaker],
  ['AdaBN on all six actors together', together],
] as const) {
  const p = everyone.map((i) => predicted.get(i) as number);
  const base = everyone.map((i) => asIs.get(i) as number);
  const onlyNew = everyone.filter((i) => p[i] === truth[i] && base[i] !== truth[i]).length;
  const onlyBase = everyone.filter((i) => p[i] !== truth[i] && base[i] === truth[i]).length;
  const pairing =
    predicted === asIs
      ? ''
      : `${onlyNew} right only adapted, ${onlyBase} only as it is; p = ${mcNemarExactP(onlyNew, onlyBase).toPrecision(3)}`;
  console.log(`${scoreRow(name, labels, truth, p)} ${pairing} |`);
}
