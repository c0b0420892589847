/**
 * Using a model trained with speaker-level input normalisation (src/infer/enrolment.ts, model-use.ts RecordingInputs):
 * a small one-epoch run with such a recipe on 40 real RAVDESS recordings of five actors (random split, so every
 * test speaker also has training recordings). `ser eval --enrol scored` scores it as training did; `--enrol train`
 * gives each test speaker the statistics of their training recordings, the same numbers as `ser predict --enrol`
 * with those recordings; without statistics every path refuses, saying how to give them (and a waveform-in export,
 * which has no input for them).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCsvRecords } from '../../src/data/csv.js';
import { loadSplit } from '../../src/data/splits.js';
import { enrolmentFiles } from '../../src/infer/enrolment.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { endToEndModel } from '../../src/export/index.js';
import { averageWindowProbabilities } from '../../src/eval/probabilities.js';
import {
  type Prediction,
  RunModel,
  allPredicted,
  evaluateRun,
  predictFiles,
  predictSegments,
  scoreWindows,
} from '../../src/infer/inference.js';
import { GENERALIZE_RECIPE } from '../../src/train/recipe.js';
import { readRunConfig } from '../../src/train/run-dir.js';
import { runCli } from '../cli/run-cli.js';
import { hasShared, maxAbsDiff } from '../helpers.js';
import { miniRavdess, smallRun } from '../train/small-runs.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-enrol-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const skip = hasShared ? false : 'needs ../shared (RAVDESS)';
const corpus = skip ? '' : miniRavdess(scratch);
const run = skip
  ? ''
  : await smallRun(scratch, 'speaker-norm', 3, { random: true, recipe: { ...GENERALIZE_RECIPE, inputNorm: 'none', speakerNorm: true } });
const split = skip ? null : loadSplit(join(run, 'split.json'));
/** The recordings of actor `actor` in `part` of the run's split, as paths. */
const partFiles = (part: 'train' | 'test', actor: string): string[] =>
  (split?.parts[part] ?? []).filter((id) => id.startsWith(`Actor_${actor}/`)).map((id) => join(corpus, id));
/** The actors with recordings in both parts (the random split of 40 recordings gives some none in the test part). */
const actors = ['01', '02', '03', '04', '05'].filter((a) => partFiles('test', a).length > 0 && partFiles('train', a).length > 0);
const TOLERANCE = 2e-6;

/** Probabilities of `p` in the model's class order. */
const row = (p: Prediction, labels: readonly string[]): number[] => labels.map((label) => p.probabilities[label] as number);

test('evaluateRun --enrol scored: the test scores and probabilities ser train wrote (statistics over each speaker’s test recordings)', {
  skip,
}, async () => {
  const result = await evaluateRun(run, { enrol: 'scored', cacheDir: null, jobs: 0 });
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
  assert.equal(result.part, 'test');
  assert.equal(result.report.samples, metrics.samples);
  assert.equal(result.report.accuracy, metrics.accuracy);
  const written = parseCsvRecords(readFileSync(join(run, 'predictions.csv'), 'utf8')).records;
  const { recordings, probabilities } = result.scored;
  const labels = result.config.labels;
  assert.deepEqual(
    recordings.map((r) => r.id),
    written.map((r) => r.id),
  );
  const expected = written.flatMap((r) => labels.map((label) => Number(r[`p_${label}`])));
  assert.ok(maxAbsDiff(probabilities, expected) <= 1e-6, `max difference ${maxAbsDiff(probabilities, expected)}`);
});

test('evaluateRun --enrol train = predictFiles with the speaker’s training recordings enrolled, on workers or not', { skip }, async () => {
  const result = await evaluateRun(run, { enrol: 'train', cacheDir: null, jobs: 0 });
  const scored = await evaluateRun(run, { enrol: 'scored', cacheDir: null, jobs: 0 });
  const labels = result.config.labels;
  const k = labels.length;
  const { recordings, probabilities } = result.scored;
  assert.ok(maxAbsDiff(probabilities, scored.scored.probabilities) > 1e-3, 'other statistics, other probabilities');
  assert.ok(actors.length >= 3, `actors in both parts: ${actors}`);
  for (const actor of actors.slice(0, 2)) {
    const tests = partFiles('test', actor);
    for (const jobs of [0, 2]) {
      const predicted = allPredicted(await predictFiles(run, tests, { enrol: partFiles('train', actor), jobs, threads: 1 }));
      assert.equal(predicted.length, tests.length);
      for (const p of predicted) {
        const i = recordings.findIndex((r) => r.path === p.file);
        assert.ok(i >= 0, p.file);
        const diff = maxAbsDiff(row(p, labels), probabilities.subarray(i * k, (i + 1) * k));
        assert.ok(diff <= TOLERANCE, `${p.file} (jobs ${jobs}): ${diff}`);
      }
    }
  }
});

test('scoreWindows with an enrolled RunModel (as ser calibrate scores) normalises every utterance with the enrolled speaker', {
  skip,
}, async () => {
  const actor = actors[1] as string;
  const enrol = partFiles('train', actor);
  const tests = partFiles('test', actor);
  const utterances = loadCorpus({ dataset: 'ravdess', path: corpus }).utterances.filter((u) => tests.includes(u.path));
  assert.equal(utterances.length, tests.length);
  const model = await RunModel.load(run, { enrol, threads: 1 });
  try {
    const scores = await scoreWindows(model, utterances, { output: 'probabilities', cacheDir: null, jobs: 0 });
    const labels = model.config.labels;
    const probabilities = averageWindowProbabilities(scores.rows, scores.counts, labels.length);
    const predicted = allPredicted(await predictFiles(run, tests, { enrol, jobs: 0 }));
    scores.kept.forEach((u, i) => {
      const p = predicted.find((q) => q.file === u.path) as Prediction;
      const diff = maxAbsDiff(row(p, labels), probabilities.subarray(i * labels.length, (i + 1) * labels.length));
      assert.ok(diff <= TOLERANCE, `${u.path}: ${diff}`);
    });
  } finally {
    await model.release();
  }
});

test('--enrol takes folders as their audio files, and changes the answer with the speaker', { skip }, async () => {
  const [actor, other] = actors as [string, string];
  const folder = join(corpus, `Actor_${actor}`);
  assert.deepEqual(
    enrolmentFiles([folder]),
    readdirSync(folder)
      .sort()
      .map((name) => join(folder, name)),
  );
  assert.equal(enrolmentFiles([folder]).length, 8);
  const files = partFiles('test', actor);
  const [byFolder, byFiles, otherSpeaker] = await Promise.all([
    predictFiles(run, files, { enrol: [folder], jobs: 0 }),
    predictFiles(run, files, { enrol: enrolmentFiles([folder]), jobs: 0 }),
    predictFiles(run, files, { enrol: [join(corpus, `Actor_${other}`)], jobs: 0 }),
  ]);
  assert.deepEqual(byFolder, byFiles);
  assert.notDeepEqual(byFolder, otherSpeaker);
  const segments = allPredicted(await predictSegments(run, files.slice(0, 1), { enrol: [folder] }));
  assert.equal(segments.length, 1);
  assert.ok(segments[0]!.segments.length >= 1 && segments[0]!.label !== '');
});

test('without a speaker’s statistics every path refuses a speaker-normalised model, saying how to give them', { skip }, async () => {
  const files = partFiles('test', actors[0] as string);
  const how = { code: 'EARG', message: /speaker-level input normalisation.*--enrol/s };
  await assert.rejects(predictFiles(run, files, { jobs: 0 }), how);
  await assert.rejects(predictFiles(run, files, { jobs: 2 }), how);
  await assert.rejects(predictSegments(run, files), how);
  await assert.rejects(RunModel.load(run), how); // ser serve, ser stream and batch workers load this way
  // A waveform-in export has no input for the statistics.
  assert.throws(() => endToEndModel(readFileSync(join(run, 'model.onnx')), readRunConfig(run)), {
    code: 'EARG',
    message: /speaker-level input normalisation.*waveform-in model has no input/s,
  });
  await assert.rejects(evaluateRun(run, { cacheDir: null, jobs: 0 }), how);
  await assert.rejects(evaluateRun(run, { enrol: 'train', part: 'all', cacheDir: null, jobs: 0 }), {
    code: 'EARG',
    message: /--enrol train .*--part test/,
  });
  // The shipped model has no speaker normalisation: statistics are refused.
  await assert.rejects(predictFiles(undefined, files, { enrol: files, jobs: 0 }), {
    code: 'EARG',
    message: /trained without speaker normalisation/,
  });
  await assert.rejects(evaluateRun(undefined, { enrol: 'scored', data: { dataset: 'ravdess', path: corpus } }), {
    code: 'EARG',
    message: /trained without speaker normalisation/,
  });
});

test('--enrol: a missing path, a folder without audio, a file that is not audio are errors naming them', { skip }, async () => {
  const files = partFiles('test', actors[0] as string);
  const missing = join(scratch, 'nobody');
  await assert.rejects(predictFiles(run, files, { enrol: [missing] }), {
    code: 'EIO',
    message: new RegExp(`${missing}: no such file or folder`),
  });
  const notAudio = join(scratch, 'notes.wav');
  writeFileSync(notAudio, 'not a recording');
  await assert.rejects(predictFiles(run, files, { enrol: [notAudio] }), {
    code: 'EIO',
    message: new RegExp(`${notAudio}: cannot enrol the speaker with it \\(.*unknown audio format`),
  });
  await assert.rejects(predictFiles(run, files, { enrol: [join(run, 'figures')] }), { code: 'EDATA', message: /holds no audio files/ });
});

test('ser predict --enrol and ser eval --enrol train through the CLI', { skip }, async () => {
  const actor = actors[2] as string;
  const files = partFiles('test', actor);
  const cli = await runCli(['predict', '--model', run, '--enrol', join(corpus, `Actor_${actor}`), '--json', '--jobs', '0', ...files]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stderr, /warning: the speaker is enrolled with 8 recording\(s\); .* needs about 10/);
  const library = await predictFiles(run, files, { enrol: [join(corpus, `Actor_${actor}`)], jobs: 0 });
  assert.deepEqual(
    cli.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)),
    JSON.parse(JSON.stringify(library)),
  );
  const refused = await runCli(['predict', '--model', run, ...files]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--enrol/);
  const evaluated = await runCli(['eval', '--model', run, '--enrol', 'train', '--json', '--no-cache']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const json = JSON.parse(evaluated.stdout);
  assert.equal(json.enrol, 'train');
  assert.equal(json.accuracy, (await evaluateRun(run, { enrol: 'train', cacheDir: null })).report.accuracy);
});
