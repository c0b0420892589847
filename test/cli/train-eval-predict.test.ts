/**
 * `ser train` -> `ser eval --json` -> `ser predict` end to end on a tiny real corpus: 24 clips of the embedded
 * corpus (4 emotions x 6 actors, RAVDESS, Opus), 1-second clips, the small model, 2 epochs. Also Ctrl-C + --resume
 * through the CLI, cross-corpus evaluation (the embedded CREMA-D clips) and the error messages for bad input.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCsvRecords } from '../../src/data/csv.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { assetPath } from '../../src/io/paths.js';
import type { CnnTmConfig } from '../../src/model/config.js';
import { CnnTmTrainer } from '../../src/model/trainer.js';
import { createSession } from '../../src/runtime/index.js';
import { historyWithoutSeconds, runCli } from './run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const manifest = join(scratch, 'manifest.csv');
const run = join(scratch, 'run');
const EMOTIONS = ['neutral', 'happy', 'sad', 'angry'];
const COMMON = ['--size', 'small', '--duration', '1', '--batch-size', '4', '--no-cache', '--threads', '1', '--progress', 'lines'];

interface EvalJson {
  accuracy: number;
  macro_f1: number;
  uar: number;
  labels: string[];
  confusion: number[][];
  samples: number;
  part: string;
  per_class: Array<{ label: string; support: number }>;
}

before(() => {
  // 4 emotions x actors 01-06, the first clip of each (statement 01, repetition 01; neutral has intensity 01 only).
  const rows = readFileSync(assetPath('corpus', 'manifest.csv'), 'utf8').trim().split('\n');
  const header = rows[0]!;
  const picked = EMOTIONS.flatMap((emotion) =>
    ['01', '02', '03', '04', '05', '06'].map((actor) => rows.find((row) => row.split(',')[1] === emotion && row.split(',')[2] === actor)!),
  );
  const absolute = picked.map((row) => assetPath('corpus', row.split(',')[0]!) + row.slice(row.indexOf(',')));
  writeFileSync(manifest, [header, ...absolute].join('\n') + '\n');
});

test('ser train: a tiny run writes every run file and prints the test table', async () => {
  const result = await runCli(['train', '--data', manifest, '--dataset', 'csv', '--seed', '1', '--epochs', '2', '--out', run, ...COMMON]);
  assert.equal(result.code, 0, result.stderr);
  for (const file of [
    'config.json',
    'split.json',
    'checkpoint.safetensors',
    'best.safetensors',
    'history.jsonl',
    'metrics.json',
    'predictions.csv',
    'report.html',
    'model.onnx',
    'figures/history.svg',
    'figures/confusion.svg',
    'figures/spectrogram-0.png',
  ]) {
    assert.ok(existsSync(join(run, file)), `missing ${file}`);
  }
  assert.match(result.stderr, /epoch 1\/2 .*val_loss/);
  assert.match(result.stderr, /epoch 2\/2 /);
  assert.match(result.stdout, /accuracy/);
  const history = readFileSync(join(run, 'history.jsonl'), 'utf8').trim().split('\n');
  assert.equal(history.length, 2);
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.deepEqual(config.labels, ['angry', 'happy', 'neutral', 'sad']);
  assert.equal(config.split.protocol, 'random-stratified');
  assert.equal(config.model.nMels, 64);
  assert.equal(config.model.frames, 63);
  // The closing hint is a command that runs in a clone (npx finds the package's own bin): its arguments work.
  const hint = /^classify recordings with: npx ser (predict --model \S+) FILE\.wav \.\.\.$/m.exec(result.stdout);
  assert.ok(hint, result.stdout);
  const clip = assetPath('corpus', 'crema-d', '1001_DFA_ANG_XX.opus');
  const hinted = await runCli([...hint[1]!.split(' '), clip, '--threads', '1']);
  assert.equal(hinted.code, 0, hinted.stderr);
  assert.match(hinted.stdout, /1001_DFA_ANG_XX\.opus: (angry|happy|neutral|sad) /);
});

test('ser eval --json: one JSON object; on the training corpus it scores the test part, equal to metrics.json', async () => {
  const result = await runCli(['eval', '--model', run, '--data', manifest, '--dataset', 'csv', '--json', '--no-cache', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]!) as EvalJson;
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as EvalJson;
  const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
  assert.equal(report.part, 'test');
  assert.equal(report.samples, split.parts.test.length);
  assert.deepEqual(report.labels, ['angry', 'happy', 'neutral', 'sad']);
  // model.onnx (eval) and the trainer's predictions at the end of training agree on every clip.
  assert.deepEqual(report.confusion, metrics.confusion);
  assert.equal(report.accuracy, metrics.accuracy);
  // Rows = true class: each row sums to the class's support; the diagonal over N is the accuracy.
  report.confusion.forEach((row, i) => {
    assert.equal(
      row.reduce((a, b) => a + b, 0),
      report.per_class[i]!.support,
    );
  });
  const diagonal = report.confusion.reduce((sum, row, i) => sum + row[i]!, 0);
  assert.equal(report.accuracy, diagonal / report.samples);
  for (const key of ['macro_f1', 'uar'] as const) assert.ok(report[key] >= 0 && report[key] <= 1);

  const all = await runCli([
    'eval',
    '--model',
    run,
    '--data',
    manifest,
    '--dataset',
    'csv',
    '--json',
    '--part',
    'all',
    '--no-cache',
    '--threads',
    '1',
  ]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal((JSON.parse(all.stdout) as EvalJson).samples, 24);

  // A corpus the run trained on whole (its test part holds none of it, as every corpus of the shipped model but its
  // held-out one): auto scores all of it and says these are training scores; --part test has nothing to score.
  const whole = join(scratch, 'trained-on-all');
  cpSync(run, whole, { recursive: true });
  const wholeSplit = JSON.parse(readFileSync(join(whole, 'split.json'), 'utf8'));
  wholeSplit.parts.train.push(...wholeSplit.parts.test);
  wholeSplit.parts.test = [];
  writeFileSync(join(whole, 'split.json'), JSON.stringify(wholeSplit));
  const evalWhole = ['eval', '--model', whole, '--data', manifest, '--dataset', 'csv', '--no-cache', '--threads', '1'];
  const onTraining = await runCli([...evalWhole, '--json']);
  assert.equal(onTraining.code, 0, onTraining.stderr);
  const onTrainingJson = JSON.parse(onTraining.stdout) as EvalJson & { part: string };
  assert.deepEqual([onTrainingJson.part, onTrainingJson.samples], ['all', 24]);
  assert.match(
    onTraining.stderr,
    /^ser: warning: .*manifest\.csv: the run trained on every recording of it \(its test part holds none\): scoring all of them, so these are scores on training data/m,
  );
  const noTest = await runCli([...evalWhole, '--part', 'test']);
  assert.equal(noTest.code, 1);
  assert.match(noTest.stderr, /there is no test part to score; --part all scores the training recordings \[EDATA\]/);

  // Without --data: the run's own corpus from its config.json, and its test part.
  const own = await runCli(['eval', '--model', run, '--json', '--no-cache', '--threads', '1']);
  assert.equal(own.code, 0, own.stderr);
  const ownReport = JSON.parse(own.stdout) as EvalJson & { data_path: string | null; dataset: string };
  assert.deepEqual([ownReport.part, ownReport.data_path, ownReport.dataset], ['test', null, 'csv']);
  assert.deepEqual(ownReport.confusion, metrics.confusion);
  // --predictions: model.onnx's rows of the test part are the trainer's predictions.csv (ids, classes; probabilities
  // within 2e-6: the trainer and the exported graph round differently), and their `correct` column is the accuracy.
  const written = join(scratch, 'eval-predictions.csv');
  const withRows = await runCli(['eval', '--model', run, '--predictions', written, '--no-cache', '--threads', '1']);
  assert.equal(withRows.code, 0, withRows.stderr);
  const evalRows = parseCsvRecords(readFileSync(written, 'utf8')).records;
  const trainRows = parseCsvRecords(readFileSync(join(run, 'predictions.csv'), 'utf8')).records;
  assert.equal(evalRows.length, split.parts.test.length);
  assert.deepEqual(
    evalRows.map((r) => [r.id, r.true, r.predicted]),
    trainRows.map((r) => [r.id, r.true, r.predicted]),
  );
  evalRows.forEach((row, i) => {
    for (const label of report.labels) {
      const [a, b] = [Number(row[`p_${label}`]), Number(trainRows[i]![`p_${label}`])];
      assert.ok(Math.abs(a - b) <= 2e-6, `${row.id} p_${label}: ser eval ${a}, ser train ${b}`);
    }
  });
  assert.equal(evalRows.filter((r) => r.correct === '1').length / evalRows.length, metrics.accuracy);
  // ser compare: the run folder (its predictions.csv) against ser eval's file of the same model: no recording differs.
  const compared = await runCli(['compare', run, written, '--json']);
  assert.equal(compared.code, 0, compared.stderr);
  const pairing = JSON.parse(compared.stdout);
  assert.deepEqual(
    [pairing.recordings, pairing.accuracy, pairing.uar, pairing.only_first, pairing.only_second, pairing.p],
    [split.parts.test.length, [metrics.accuracy, metrics.accuracy], [metrics.uar, metrics.uar], 0, 0, 1],
  );
  const text = await runCli(['compare', run, written]);
  assert.match(text.stdout, /^McNemar exact two-sided p = 1\.00 \(not shown to differ\)$/m);
  const missing = await runCli(['compare', run, join(scratch, 'no-such.csv')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ser: predictions: .*no-such\.csv: no such file \(a run of ser train writes predictions\.csv/m);
  const nowhere = await runCli(['eval', '--model', run, '--predictions', join(scratch, 'no-such-folder', 'p.csv')]);
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.stderr, /^ser: eval: --predictions .*p\.csv: no folder .*no-such-folder to write it in/m);
  const nothing = await runCli(['eval', '--json']);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /^ser: eval: say what to score: --data CORPUS, or --model RUN_DIR/m);
});

test('ser calibrate: prints the fit, and ser eval then scores the tempered model as metrics.json says', async () => {
  const copy = join(scratch, 'run-calibrated');
  cpSync(run, copy, { recursive: true });
  const result = await runCli(['calibrate', copy, '--no-cache', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const temperature = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8')).model.temperature as number;
  assert.match(result.stdout, new RegExp(`temperature ${temperature}\\n`));
  assert.match(result.stdout, /^\| validation \(fitted on\) \| \d+ \| 1\.0000 \|/m);
  const own = await runCli(['eval', '--model', copy, '--json', '--no-cache', '--threads', '1']);
  assert.equal(own.code, 0, own.stderr);
  const report = JSON.parse(own.stdout) as EvalJson & { temperature: number | null; ece: number };
  const metrics = JSON.parse(readFileSync(join(copy, 'metrics.json'), 'utf8')) as EvalJson & { ece: number };
  assert.equal(report.temperature, temperature);
  assert.ok(Math.abs(report.ece - metrics.ece) < 1e-6, `ser eval ${report.ece}, metrics.json ${metrics.ece}`);
  assert.deepEqual(report.confusion, (JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as EvalJson).confusion);
  // predictions.csv is rewritten at the temperature: the calibrated model.onnx's rows, no longer the untempered ones.
  const tempered = join(scratch, 'calibrated-predictions.csv');
  assert.equal((await runCli(['eval', '--model', copy, '--predictions', tempered, '--no-cache', '--threads', '1'])).code, 0);
  const probabilityColumns = (path: string) =>
    parseCsvRecords(readFileSync(path, 'utf8')).records.flatMap((row) => report.labels.map((label) => Number(row[`p_${label}`])));
  const rewritten = probabilityColumns(join(copy, 'predictions.csv'));
  probabilityColumns(tempered).forEach((p, i) => {
    assert.ok(Math.abs(p - rewritten[i]!) <= 2e-6, `probability ${i}: ${p}, ${rewritten[i]}`);
  });
  const before = probabilityColumns(join(run, 'predictions.csv'));
  assert.ok(
    before.some((p, i) => Math.abs(p - rewritten[i]!) > 1e-3),
    'predictions.csv kept the untempered probabilities',
  );
  const untempered = JSON.parse((await runCli(['eval', '--model', run, '--json', '--no-cache', '--threads', '1'])).stdout);
  assert.equal(untempered.temperature, null);
  // --json: one object; calibrating again fits the same temperature from the untempered weights.
  const again = await runCli(['calibrate', copy, '--json', '--no-cache', '--threads', '1']);
  assert.equal(again.code, 0, again.stderr);
  const record = JSON.parse(again.stdout) as { temperature: number; previous: number; test: { ece: [number, number] } };
  assert.deepEqual([record.temperature, record.previous], [temperature, temperature]);
  assert.ok(Math.abs(record.test.ece[1] - metrics.ece) < 1e-12);
});

test('ser eval: another corpus is scored on the classes that map (CREMA-D clips on a RAVDESS model), the others left out and counted', async () => {
  const crema = assetPath('corpus', 'crema-d');
  const partly = await runCli(['eval', '--model', run, '--data', crema, '--dataset', 'crema-d', '--json', '--no-cache']);
  assert.equal(partly.code, 0, partly.stderr);
  // The model knows angry, happy, neutral, sad: the 2 disgust and 2 fear clips have no class.
  assert.match(partly.stderr, /^left out: 2 'disgust', 2 'fear' \(no such class in the model: angry, happy, neutral, sad\)$/m);
  const partlyJson = JSON.parse(partly.stdout) as EvalJson & { unmapped: Record<string, number> };
  assert.equal(partlyJson.samples, 8);
  assert.deepEqual(partlyJson.unmapped, { disgust: 2, fear: 2 });

  const mapped = await runCli([
    'eval',
    '--model',
    run,
    '--data',
    crema,
    '--dataset',
    'crema-d',
    '--labels',
    'angry,happy,neutral,sad',
    '--json',
    '--no-cache',
  ]);
  assert.equal(mapped.code, 0, mapped.stderr);
  const report = JSON.parse(mapped.stdout) as EvalJson;
  assert.equal(report.part, 'all');
  assert.equal(report.samples, 8);
  assert.deepEqual(report.labels, ['angry', 'happy', 'neutral', 'sad']);
});

test('ser predict: the emotion and probabilities of each file', async () => {
  const files = ['1001_DFA_ANG_XX.opus', '1002_DFA_SAD_XX.opus'].map((name) => assetPath('corpus', 'crema-d', name));
  const result = await runCli(['predict', '--model', run, ...files, '--json', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const predictions = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; label: string; probabilities: Record<string, number> });
  assert.deepEqual(
    predictions.map((p) => p.file),
    files,
  );
  for (const p of predictions) {
    const entries = Object.entries(p.probabilities);
    assert.deepEqual(
      entries.map(([label]) => label),
      ['angry', 'happy', 'neutral', 'sad'],
    );
    assert.ok(Math.abs(entries.reduce((sum, [, prob]) => sum + prob, 0) - 1) < 1e-5);
    assert.equal(p.label, entries.reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0]);
  }
  const text = await runCli(['predict', '--model', run, files[0]!]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /1001_DFA_ANG_XX\.opus: (angry|happy|neutral|sad) {2}\((angry|happy|neutral|sad) \d+\.\d%/);
});

test('model.onnx has a symbolic batch axis; a run with an older batch-1 model.onnx is still evaluated the same', async () => {
  const inputShape = async (dir: string) => {
    const session = await createSession(readFileSync(join(dir, 'model.onnx')), { threads: 1 });
    await session.release();
    return session.inputShapes.mel;
  };
  assert.deepEqual(await inputShape(run), ['batch', 1, 64, 63]);
  // The same weights exported as runs made before the symbolic axis had them: batch 1.
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { model: CnnTmConfig };
  const trainer = await CnnTmTrainer.create(config.model, { batchSize: 4, lr: 1e-3, seed: 0 });
  const old = join(scratch, 'old-model-run');
  try {
    trainer.loadState(readSafetensors(join(run, 'best.safetensors')).tensors);
    cpSync(run, old, { recursive: true });
    writeFileSync(join(old, 'model.onnx'), trainer.exportOnnx(1));
  } finally {
    await trainer.release();
  }
  assert.deepEqual(await inputShape(old), [1, 1, 64, 63]);
  const args = ['--data', manifest, '--dataset', 'csv', '--part', 'all', '--json', '--no-cache', '--threads', '1'];
  const now = await runCli(['eval', '--model', run, ...args]);
  const before = await runCli(['eval', '--model', old, ...args]);
  assert.equal(now.code, 0, now.stderr);
  assert.equal(before.code, 0, before.stderr);
  const [a, b] = [JSON.parse(now.stdout) as EvalJson, JSON.parse(before.stdout) as EvalJson];
  assert.equal(a.samples, 24);
  assert.deepEqual(a.confusion, b.confusion);
  assert.equal(a.accuracy, b.accuracy);
});

test('ser predict --segments: a prediction per window along the file, and the mean; --hop needs --segments', async () => {
  // The run's clips are 1 s; CREMA-D's 1001_DFA_ANG_XX is ~2.3 s: windows at 0, 1 (and 2 only if half of it is audio).
  const file = assetPath('corpus', 'crema-d', '1001_DFA_ANG_XX.opus');
  const result = await runCli(['predict', '--model', run, file, '--segments', '--json', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const p = JSON.parse(result.stdout.trim()) as {
    file: string;
    label: string;
    probabilities: Record<string, number>;
    segments: Array<{ startS: number; endS: number; label: string }>;
  };
  assert.equal(p.file, file);
  assert.deepEqual(
    p.segments.map((s) => s.startS),
    [0, 1],
  );
  assert.equal(p.segments[0]?.endS, 1);
  const plain = JSON.parse((await runCli(['predict', '--model', run, file, '--json', '--threads', '1'])).stdout.trim()) as {
    label: string;
  };
  assert.equal(p.segments[0]?.label, plain.label, 'the first window is the clip plain predict classifies');
  const overlapping = await runCli(['predict', '--model', run, file, '--segments', '--hop', '0.5']);
  assert.equal(overlapping.code, 0, overlapping.stderr);
  assert.match(overlapping.stdout, /1001_DFA_ANG_XX\.opus: (angry|happy|neutral|sad) over 4 window\(s\) {2}\(mean: /);
  assert.match(overlapping.stdout, /\n {2}1\.50-2\.\d\d s: (angry|happy|neutral|sad) {2}\(/);
  const noSegments = await runCli(['predict', '--model', run, file, '--hop', '1']);
  assert.equal(noSegments.code, 1);
  assert.match(noSegments.stderr, /^ser: predict: --hop needs --segments \[EARG\]$/m);
});

test('ser train: Ctrl-C saves and says how to resume; --resume then ends as an uninterrupted run', async () => {
  const interrupted = join(scratch, 'interrupted');
  const args = ['train', '--data', manifest, '--dataset', 'csv', '--seed', '1', '--epochs', '4', ...COMMON];
  let sent = false;
  const first = await runCli([...args, '--out', interrupted], {
    onStderr: (text, child) => {
      if (!sent && /epoch 1\/4 /.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.equal(first.code, 130, first.stderr);
  // SIGINT lands during epoch 2 (or, on a very slow machine, later): the checkpoint holds the last whole epoch.
  const saved = /interrupted: the checkpoint in .* holds epoch (\d); continue with: npx ser train --out .* --resume/.exec(first.stderr);
  assert.ok(saved && Number(saved[1]) >= 1 && Number(saved[1]) < 4, first.stderr);
  assert.ok(!existsSync(join(interrupted, 'model.onnx')));

  const refused = await runCli(['train', '--out', interrupted, '--resume', '--seed', '2']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--resume takes the run's settings from .*config\.json; drop --seed/);

  const resumed = await runCli(['train', '--out', interrupted, '--resume', '--threads', '1', '--no-cache', '--progress', 'lines']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const whole = join(scratch, 'whole');
  const uninterrupted = await runCli([...args, '--out', whole]);
  assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
  assert.deepEqual(historyWithoutSeconds(interrupted), historyWithoutSeconds(whole));
  assert.deepEqual(
    JSON.parse(readFileSync(join(interrupted, 'metrics.json'), 'utf8')).confusion,
    JSON.parse(readFileSync(join(whole, 'metrics.json'), 'utf8')).confusion,
  );
  assert.ok(readFileSync(join(interrupted, 'model.onnx')).equals(readFileSync(join(whole, 'model.onnx'))), 'model.onnx differs');
});

test('ser: clear errors for a missing run, missing files, no data, an occupied run directory', async () => {
  const noRun = await runCli(['eval', '--model', join(scratch, 'nope'), '--data', manifest, '--json']);
  assert.equal(noRun.code, 1);
  assert.deepEqual(JSON.parse(noRun.stdout), {
    error: `run: ${join(scratch, 'nope')}: no such run directory (train one with: ser train --out ${join(scratch, 'nope')})`,
    code: 'EIO',
  });
  assert.match(noRun.stderr, /^ser: run: .*nope: no such run directory \(train one with: ser train --out .*nope\) \[EIO\]$/m);

  const noFile = await runCli(['predict', '--model', run, join(scratch, 'missing.wav')]);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /^ser: load: .*missing\.wav: no such file \(check the path\) \[EIO\]$/m);
  assert.match(noFile.stderr, /^ser: 0 of 1 file\(s\) classified, 1 could not be used$/m);
  const noFileSegments = await runCli(['predict', '--model', run, '--segments', join(scratch, 'missing.wav')]);
  assert.equal(noFileSegments.code, 1);
  assert.match(noFileSegments.stderr, /^ser: load: .*missing\.wav: no such file \(check the path\) \[EIO\]$/m);

  const noData = await runCli(['train', '--data', join(scratch, 'empty-folder'), '--dataset', 'ravdess', '--out', join(scratch, 'x')]);
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /^ser: data: .*empty-folder: no such file or folder/m);

  const occupied = await runCli(['train', '--data', manifest, '--out', run, ...COMMON]);
  assert.equal(occupied.code, 1);
  assert.match(occupied.stderr, /already holds a run; continue it with --resume, or choose another --out/);

  const badNumber = await runCli(['train', '--epochs', 'many', '--out', join(scratch, 'y')]);
  assert.equal(badNumber.code, 1);
  assert.match(badNumber.stderr, /^ser: cli: --epochs must be an integer >= 1 \('many' given\) \[EARG\]$/m);

  const badDecay = await runCli(['train', '--ema-decay', '1', '--out', join(scratch, 'z')]);
  assert.equal(badDecay.code, 1);
  assert.match(badDecay.stderr, /^ser: cli: --ema-decay must be a number between 0 and 1, e\.g\. 0\.998 \('1' given\) \[EARG\]$/m);
  const noValidation = await runCli(['train', '--validation-fraction', '0', '--patience', '5', '--calibrate', '--out', join(scratch, 'z')]);
  assert.equal(noValidation.code, 1);
  assert.match(
    noValidation.stderr,
    /^ser: train: --patience, --calibrate work on the validation part, and --validation-fraction 0 leaves none .*: drop them \[EARG\]$/m,
  );
  const splitAndFile = await runCli([
    'train',
    '--split-file',
    'given.json',
    '--split',
    'speaker',
    '--split-seed',
    '2',
    '--out',
    join(scratch, 'z'),
  ]);
  assert.equal(splitAndFile.code, 1);
  assert.match(
    splitAndFile.stderr,
    /^ser: train: --split-file given\.json gives the split; --split, --split-seed would make one: drop them \[EARG\]$/m,
  );
  const noValidationFile = join(scratch, 'no-validation-split.json');
  writeFileSync(
    noValidationFile,
    JSON.stringify({
      format: 'ser-split/1',
      protocol: 'random-stratified',
      labels: ['a'],
      parts: { train: ['x'], validation: [], test: ['y'] },
    }),
  );
  const fileWithoutValidation = await runCli([
    'train',
    '--split-file',
    noValidationFile,
    '--monitor',
    'val_uar',
    '--out',
    join(scratch, 'z'),
  ]);
  assert.equal(fileWithoutValidation.code, 1);
  assert.match(
    fileWithoutValidation.stderr,
    /^ser: train: --monitor work on the validation part, and .*no-validation-split\.json has none .*: drop them \[EARG\]$/m,
  );
  const badFraction = await runCli(['train', '--validation-fraction', '1', '--out', join(scratch, 'z')]);
  assert.equal(badFraction.code, 1);
  assert.match(
    badFraction.stderr,
    /^ser: cli: --validation-fraction must be a number from 0 \(no validation part\) to below 1, e\.g\. 0\.1 \('1' given\) \[EARG\]$/m,
  );
  // The average is part of a run's settings: taken from config.json on resume, not given again.
  const decayOnResume = await runCli(['train', '--out', run, '--resume', '--ema-decay', '0.99']);
  assert.equal(decayOnResume.code, 1);
  assert.match(decayOnResume.stderr, /drop --ema-decay/);

  const badStrength = await runCli(['train', '--corpus-adversarial', '0', '--out', join(scratch, 'w')]);
  assert.equal(badStrength.code, 1);
  assert.match(badStrength.stderr, /^ser: cli: --corpus-adversarial must be a number > 0 \('0' given\) \[EARG\]$/m);
  const bothHeads = await runCli(['train', '--corpus-adversarial', '1', '--speaker-adversarial', '1', '--out', join(scratch, 'w')]);
  assert.equal(bothHeads.code, 1);
  assert.match(bothHeads.stderr, /^ser: cli: give --corpus-adversarial or --speaker-adversarial, not both .*\[EARG\]$/m);
  const badSpeakerStrength = await runCli(['train', '--speaker-adversarial', '-1', '--out', join(scratch, 'w')]);
  assert.equal(badSpeakerStrength.code, 1);
  assert.match(badSpeakerStrength.stderr, /--speaker-adversarial must be a number > 0 \('-1' given\)/);
  const speakerOnResume = await runCli(['train', '--out', run, '--resume', '--speaker-adversarial', '1']);
  assert.equal(speakerOnResume.code, 1);
  assert.match(speakerOnResume.stderr, /drop --speaker-adversarial/);
  const strengthOnResume = await runCli(['train', '--out', run, '--resume', '--corpus-adversarial', '1', '--split-seed', '2']);
  assert.equal(strengthOnResume.code, 1);
  assert.match(strengthOnResume.stderr, /drop --corpus-adversarial, --split-seed/);
});

test('ser predict without --model uses the shipped model; an unusable file gets an error line and the others go on; --jobs', async () => {
  const good = assetPath('corpus', 'crema-d', '1001_DFA_ANG_XX.opus');
  const missing = join(scratch, 'not-there.wav');
  const result = await runCli(['predict', good, missing, '--json', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; label?: string; code?: string; probabilities?: Record<string, number> });
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]?.probabilities ?? {}), ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
  assert.ok(Math.abs(Object.values(lines[0]?.probabilities ?? {}).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.deepEqual([lines[1]?.file, lines[1]?.code], [missing, 'EIO']);
  assert.match(result.stderr, /1 of 2 file\(s\) classified, 1 could not be used/);
  const strict = await runCli(['predict', good, missing, '--strict', '--threads', '1']);
  assert.equal(strict.code, 1);
  // Decoding workers (two files: the default) or none: the same output, byte for byte.
  const sequential = await runCli(['predict', good, missing, '--json', '--threads', '1', '--jobs', '0']);
  assert.equal(sequential.stdout, result.stdout);
  const negative = await runCli(['predict', good, '--jobs', '-1']);
  assert.match(negative.stderr, /^ser: cli: --jobs must be an integer >= 0 \('-1' given\) \[EARG\]$/m);
  const withSegments = await runCli(['predict', good, '--segments', '--jobs', '2']);
  assert.match(withSegments.stderr, /^ser: predict: --jobs is not used with --segments .* \[EARG\]$/m);
});
