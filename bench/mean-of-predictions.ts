/**
 * An ensemble from the predictions files of runs (predictions.csv of `ser train`, or `ser eval --predictions`):
 * each recording's class probabilities averaged over the files, for runs whose models `bench/ensemble.ts` cannot
 * load (e.g. speaker-normalised ones, which need each speaker's statistics) or are gone. Prints accuracy, UAR and
 * recall per class of each file and of the mean, pairs the mean with each file (McNemar's exact test), and with
 * --out writes the mean as a predictions file, so `ser compare` can pair it with another.
 *
 *   npx tsx bench/mean-of-predictions.ts runs/a/predictions.csv runs/b/predictions.csv [--out /tmp/mean-ab.csv]
 *
 * The files must hold the same recordings (by id) with the same true classes and the same classes in the same
 * order; a run folder stands for its predictions.csv. The probabilities are those written (six decimals).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseCsvRecords } from '../src/data/csv.js';
import { predictionsCsv, predictionsFilePath } from '../src/eval/predictions.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { argmaxRows, pairedLines, scoreRow } from './held-out-speakers.js';

const { values: args, positionals: files } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
if (files.length < 2) throw new Error('give two or more predictions files (or run folders holding predictions.csv)');

interface PredictionsFile {
  name: string;
  labels: string[];
  rows: Record<string, string>[];
}

function readFile(where: string): PredictionsFile {
  const path = predictionsFilePath(where);
  const { header, records } = parseCsvRecords(readFileSync(path, 'utf8'), path);
  const labels = header.filter((column) => column.startsWith('p_')).map((column) => column.slice(2));
  if (labels.length === 0 || !header.includes('id') || !header.includes('true'))
    throw new Error(`${path}: not a predictions file (needs id, true and p_<class> columns)`);
  return { name: where, labels, rows: records };
}

const inputs = files.map(readFile);
const first = inputs[0] as PredictionsFile;
const labels = first.labels;
const ids = first.rows.map((row) => row.id as string);
if (new Set(ids).size !== ids.length) throw new Error(`${first.name}: a recording id occurs twice`);
const truth = first.rows.map((row) => {
  const index = labels.indexOf(row.true as string);
  if (index < 0) throw new Error(`${first.name}: ${row.id} has true class ${row.true}, which is not among its classes ${labels}`);
  return index;
});
const probabilities = inputs.map((input) => {
  if (input.labels.join() !== labels.join())
    throw new Error(`${input.name}: classes ${input.labels} differ from ${first.name}'s ${labels}`);
  const byId = new Map(input.rows.map((row) => [row.id as string, row]));
  if (byId.size !== input.rows.length || input.rows.length !== ids.length)
    throw new Error(`${input.name}: ${input.rows.length} recordings (${byId.size} distinct), ${first.name} ${ids.length}`);
  const p = new Float64Array(ids.length * labels.length);
  ids.forEach((id, i) => {
    const row = byId.get(id);
    if (!row) throw new Error(`${input.name}: no recording ${id} (it is in ${first.name})`);
    if (row.true !== first.rows[i]?.true)
      throw new Error(`${id}: true class ${row.true} in ${input.name}, ${first.rows[i]?.true} in ${first.name}`);
    labels.forEach((label, c) => {
      const value = Number(row[`p_${label}`]);
      if (!Number.isFinite(value) || value < 0 || value > 1)
        throw new Error(`${input.name}: ${id} has p_${label} '${row[`p_${label}`]}', not a probability`);
      p[i * labels.length + c] = value;
    });
  });
  return p;
});

const mean = new Float64Array(ids.length * labels.length);
for (const p of probabilities) for (let i = 0; i < mean.length; i++) mean[i]! += (p[i] as number) / probabilities.length;
console.log(`${ids.length} recordings, ${labels.length} classes`);
console.log(`| predictions | accuracy | UAR | recall ${labels.join(' / ')} |`);
console.log('| --- | --- | --- | --- |');
probabilities.forEach((p, k) => {
  console.log(scoreRow(inputs[k]?.name as string, labels, truth, argmaxRows(p, labels.length)));
});
const ensemble = argmaxRows(mean, labels.length);
console.log(scoreRow(`mean of the ${inputs.length}`, labels, truth, ensemble));
const paired = probabilities.map((p, k) => ({ name: inputs[k]?.name as string, predicted: argmaxRows(p, labels.length) }));
for (const line of pairedLines('mean', truth, ensemble, paired)) console.log(line);
if (args.out) {
  const recordings = first.rows.map((row) => ({ id: row.id as string, path: row.path ?? '', speaker: row.speaker ?? '' }));
  writeFileAtomic(args.out, predictionsCsv(recordings, truth, mean, labels));
  console.log(`the mean's predictions: ${args.out}`);
}
