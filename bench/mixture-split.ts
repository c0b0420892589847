/**
 * A split of one corpus carried into a mixture, for `ser train --split-file`: the given corpus keeps its train,
 * validation and test parts (its ids prefixed by its tag), and every recording of the other corpora joins train.
 * So a model can train on several corpora and be tested on exactly the recordings another run was tested on
 * (e.g. the paper's protocol on RAVDESS, 680 / 76 / 324, with the other shared corpora as extra training data).
 *
 *   npx tsx bench/mixture-split.ts --split results/RUN/split.json --corpus ravdess \
 *     --labels neutral,calm,happy,sad,angry,fearful,disgust,surprised \
 *     --data ravdess=../shared/data/ravdess --data nemo=../shared/data/nemo ... --out runs/mixture-split.json
 *
 * Prints the recordings per corpus and part, and per class in train.
 */
import { parseArgs } from 'node:util';
import { CORPUS_NAMES, type CorpusName } from '../src/data/corpus.js';
import { loadCorpora } from '../src/data/mixture.js';
import { PART_NAMES, type PartName, type Split, loadSplit, saveSplit } from '../src/data/splits.js';

const { values: args } = parseArgs({
  options: {
    split: { type: 'string' },
    corpus: { type: 'string' },
    labels: { type: 'string' },
    data: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
  },
});
if (!args.split || !args.corpus || !args.labels || !args.out || args.data.length < 2) {
  throw new Error('usage: --split SPLIT.json --corpus TAG --labels a,b,... --data NAME=PATH (2+) --out OUT.json');
}
const sources = args.data.map((entry) => {
  const [name, path] = entry.split('=') as [string, string];
  if (!CORPUS_NAMES.includes(name as CorpusName) || !path)
    throw new Error(`--data ${entry}: expected NAME=PATH, NAME one of ${CORPUS_NAMES.join(', ')}`);
  return { dataset: name as CorpusName, path };
});
const mixture = loadCorpora(sources, { labels: args.labels });
const given = loadSplit(args.split);
const partOf = new Map<string, PartName>();
for (const part of PART_NAMES) for (const id of given.parts[part]) partOf.set(`${args.corpus}/${id}`, part);

const split: Split = {
  format: 'ser-split/1',
  protocol: given.protocol,
  seed: given.seed,
  testFraction: given.testFraction,
  validationFraction: given.validationFraction,
  labels: [...mixture.labels],
  parts: { train: [], validation: [], test: [] },
  counts: { train: {}, validation: {}, test: {} },
};
const table = new Map<string, Record<PartName, number>>();
for (const u of mixture.utterances) {
  const source = u.source ?? '';
  const part = source === args.corpus ? partOf.get(u.id) : 'train';
  if (part === undefined) throw new Error(`${u.id}: a recording of ${args.corpus} that ${args.split} does not name`);
  split.parts[part].push(u.id);
  split.counts[part][u.label] = (split.counts[part][u.label] ?? 0) + 1;
  const row = table.get(source) ?? { train: 0, validation: 0, test: 0 };
  row[part]++;
  table.set(source, row);
}
const ids = new Set(mixture.utterances.map((u) => u.id));
const named = [...partOf.keys()].filter((id) => !ids.has(id));
if (named.length > 0) throw new Error(`${named.length} ids of ${args.split} are not in ${args.corpus} (e.g. ${named[0]})`);
for (const part of PART_NAMES) split.parts[part].sort();
saveSplit(args.out, split);
for (const [source, row] of table) console.log(`${source}: train ${row.train}, validation ${row.validation}, test ${row.test}`);
console.log(`train per class: ${JSON.stringify(split.counts.train)}`);
console.log(`written: ${args.out}`);
