/**
 * A model trained with speaker-level input normalisation (features/speaker-norm.ts) needs band statistics of the
 * speaker at test time. Training's evaluation takes them over all of the speaker's test recordings; a user may have
 * fewer, or one. This scores the trained run on its test speakers with the statistics taken over:
 *
 * - all the speaker's recordings (what `ser train` reports);
 * - k recordings of the speaker drawn at random (seeded; k = 1, 3, 10), every recording then normalised with them;
 * - only the speaker's neutral recordings (an enrolment with calm speech);
 * - each recording alone (no speaker known);
 * - all test speakers pooled (a corpus or channel normalisation, no speaker identity);
 * - with --test-part, the speaker's recordings in the run's training part (an enrolled speaker: no test recording
 *   enters the statistics), for a split whose test speakers also train (a random one).
 *
 * The first row and the enrolled one are what `ser eval --model RUN --enrol scored` and `--enrol train` give (the same
 * class for every recording; RESULTS.md, "The same numbers from the command line"); the other rows are this bench's.
 *
 *   npx tsx bench/speaker-norm-grouping.ts --model RUN_DIR [--speakers ravdess/13,...,ravdess/18] [--threads 1]
 *   npx tsx bench/speaker-norm-grouping.ts --model RUN_DIR --test-part [--predictions ENROLLED.csv]
 *
 * With --test-part the recordings scored are the run's own test part (its corpora and classes) instead of speakers;
 * --predictions FILE then writes the enrolled row's per-recording predictions in predictions.csv's format (for
 * `ser compare` and `bench/mean-of-predictions.ts`).
 * Prints accuracy, UAR and recall per class for each (the labels serve only to score and to pick neutral ones).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractUtteranceLogMels } from '../src/data/index.js';
import { mixSeed, mulberry32 } from '../src/data/prng.js';
import { predictionsCsv } from '../src/eval/index.js';
import { softmaxInto } from '../src/eval/probabilities.js';
import type { Spectrogram } from '../src/features/index.js';
import { type BandNormalizer, normalizeBands, speakerNormalizer } from '../src/features/speaker-norm.js';
import { utteranceWindows } from '../src/features/utterance.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { packageRoot } from '../src/io/paths.js';
import { createSession } from '../src/runtime/index.js';
import { readTrainedRun } from '../src/train/run-dir.js';
import { heldOutUtterances, runPartUtterances, scoreRow } from './held-out-speakers.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    speakers: { type: 'string', default: ['13', '14', '15', '16', '17', '18'].map((a) => `ravdess/${a}`).join(',') },
    data: { type: 'string', default: `${packageRoot()}/../shared/data` },
    threads: { type: 'string', default: '1' },
    'test-part': { type: 'boolean', default: false },
    predictions: { type: 'string' },
  },
});
if (args.predictions && !args['test-part']) throw new Error('--predictions FILE writes the enrolled row, which needs --test-part');
if (!args.model) throw new Error('--model RUN_DIR: a run trained with "speakerNorm": true');
const { config, model } = readTrainedRun(args.model);
if (!config.recipe?.speakerNorm) throw new Error(`${args.model}: its recipe has no speakerNorm`);
const recipe = config.recipe;
const { nMels, frames } = config.model;
const labels = config.labels;
const topDb = config.frontEnd.topDb;
const wanted = new Set(args.speakers.split(','));
const utterances = args['test-part'] ? runPartUtterances(args.model, 'test') : heldOutUtterances(args.data, wanted);
const extracted = await extractUtteranceLogMels(utterances, { maxS: recipe.input.maxS, frontEnd: config.frontEnd });
const logMels = extracted.logMels;
const speakers = extracted.kept.map((u) => u.speaker);
const truth = extracted.kept.map((u) => labels.indexOf(u.label));
const plainWindows = logMels.map((m) => utteranceWindows(m, frames, recipe.input, topDb));
console.log(
  `${args.model} on ${logMels.length} recordings of ${new Set(speakers).size} speakers${args['test-part'] ? ' (its test part)' : ''}`,
);
// With --test-part, the test speakers' recordings in the training part (the enrolled row), checked before any scoring.
const training = args['test-part'] ? runPartUtterances(args.model, 'train').filter((u) => speakers.includes(u.speaker)) : [];
const unenrolled = args['test-part'] ? [...new Set(speakers)].filter((s) => !training.some((u) => u.speaker === s)) : [];
if (args.predictions && unenrolled.length > 0) {
  throw new Error(
    `${args.model}: ${unenrolled.length} test speakers have no recording in the training part (${unenrolled[0]}), so there is ` +
      'no enrolled row to write with --predictions (a split whose test speakers also train, e.g. a random one, has one)',
  );
}

const session = await createSession(model, { threads: Number(args.threads) });

/** Band statistics over the speech spans of `mels` (the recordings of one speaker, or of a group). */
const statsOver = (mels: readonly Spectrogram[]): BandNormalizer => speakerNormalizer(mels, recipe.input.trimDb, topDb);
/** Statistics over the scored recordings `members`. */
const statsOf = (members: readonly number[]): BandNormalizer => statsOver(members.map((i) => logMels[i] as Spectrogram));

/**
 * Prints accuracy, UAR and recall per class with each recording normalised by `normalizerOf(i)`; returns the
 * recordings' class probabilities [recordings, classes] (each recording's windows averaged).
 */
async function score(name: string, normalizerOf: (i: number) => BandNormalizer): Promise<Float64Array> {
  const predicted: number[] = [];
  const probabilities = new Float64Array(logMels.length * labels.length);
  for (let i = 0; i < logMels.length; i++) {
    const w = plainWindows[i] as { windows: Float32Array; count: number };
    const x = normalizeBands(w.windows.slice(), normalizerOf(i), frames);
    const result = await session.run({ mel: { data: x, shape: [w.count, 1, nMels, frames] } });
    const logits = result.logits?.data as Float32Array;
    const mean = new Float64Array(labels.length);
    for (let k = 0; k < w.count; k++) {
      const row = softmaxInto(logits.subarray(k * labels.length, (k + 1) * labels.length), new Float64Array(labels.length));
      for (let c = 0; c < labels.length; c++) mean[c]! += (row[c] as number) / w.count;
    }
    predicted.push(mean.indexOf(Math.max(...mean)));
    probabilities.set(mean, i * labels.length);
  }
  console.log(scoreRow(name, labels, truth, predicted));
  return probabilities;
}

const bySpeaker = new Map<string, number[]>();
speakers.forEach((s, i) => {
  bySpeaker.set(s, [...(bySpeaker.get(s) ?? []), i]);
});
const speakerStats = new Map([...bySpeaker].map(([s, members]) => [s, statsOf(members)]));
console.log(`| statistics over | accuracy | UAR | recall ${labels.join(' / ')} |`);
console.log('| --- | --- | --- | --- |');
await score("all the speaker's recordings", (i) => speakerStats.get(speakers[i] as string) as BandNormalizer);
for (const k of [1, 3, 10]) {
  // Seeded draws of k recordings per speaker; three draws, so one lucky pick does not decide.
  for (const draw of [0, 1, 2]) {
    const random = mulberry32(mixSeed(k, draw));
    const stats = new Map(
      [...bySpeaker].map(([s, members]) => {
        const pool = [...members];
        for (let j = pool.length - 1; j > 0; j--) {
          const r = Math.floor(random() * (j + 1));
          [pool[j], pool[r]] = [pool[r] as number, pool[j] as number];
        }
        return [s, statsOf(pool.slice(0, k))];
      }),
    );
    await score(
      `${k} random recording${k > 1 ? 's' : ''} of the speaker (draw ${draw})`,
      (i) => stats.get(speakers[i] as string) as BandNormalizer,
    );
  }
}
const neutral = labels.indexOf('neutral');
const neutralOf = new Map([...bySpeaker].map(([s, members]) => [s, members.filter((i) => truth[i] === neutral)]));
const withoutNeutral = [...neutralOf].filter(([, members]) => members.length === 0).map(([s]) => s);
if (withoutNeutral.length === 0) {
  const neutralStats = new Map([...neutralOf].map(([s, members]) => [s, statsOf(members)]));
  await score("the speaker's neutral recordings only", (i) => neutralStats.get(speakers[i] as string) as BandNormalizer);
} else {
  console.log(
    `| the speaker's neutral recordings only: not scored, ${withoutNeutral.length} speakers have none here (${withoutNeutral[0]}) | | | |`,
  );
}
await score('each recording alone', (i) => statsOf([i]));
const pooled = statsOf(logMels.map((_, i) => i));
await score('all test speakers pooled', () => pooled);
if (unenrolled.length > 0) {
  console.log(`| the speaker's training recordings: not scored, ${unenrolled.length} test speakers have none (${unenrolled[0]}) | | | |`);
} else if (args['test-part']) {
  // The speakers' training recordings: statistics as if each speaker had enrolled with them.
  const enrolled = await extractUtteranceLogMels(training, { maxS: recipe.input.maxS, frontEnd: config.frontEnd });
  const enrolmentStats = new Map(
    [...bySpeaker.keys()].map((s) => [s, statsOver(enrolled.logMels.filter((_, j) => enrolled.kept[j]?.speaker === s))] as const),
  );
  const enrolledProbabilities = await score(
    `the speaker's training recordings (${enrolled.kept.length} recordings of the ${bySpeaker.size} speakers; no test recording)`,
    (i) => enrolmentStats.get(speakers[i] as string) as BandNormalizer,
  );
  if (args.predictions) {
    const recordings = extracted.kept.map((u) => ({ id: u.id, path: u.path, speaker: u.speaker }));
    writeFileAtomic(args.predictions, predictionsCsv(recordings, truth, enrolledProbabilities, labels));
    console.log(`the enrolled speakers' predictions: ${args.predictions}`);
  }
}
await session.release();
console.log(`(model ${join(args.model, 'model.onnx')})`);
