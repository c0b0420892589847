/**
 * How steady a model's answers stay when the recordings change (noise, a channel): each model's predictions of the
 * originals and of copies of the same recordings (`ser eval --predictions` CSV files, paired by id), per set:
 * accuracy, answers that differ from the model's own answer on the original, recordings called `--watch` (default
 * sad). With two models, paired recording by recording (McNemar's exact test, src/eval/predictions.ts): per set on
 * being right, as `ser compare`; and over all copy sets together on changing the answer (pairs where one model
 * changes its answer and the other does not).
 *
 *   npx tsx bench/answer-drift.ts --sets orig-13-18,noisy-pink-30,noisy-pink-20 \
 *     --model runs/floor-eval/p1-refit-twin --model runs/floor-eval/p1-refit-twin-untrimmed [--watch sad]
 *
 * A model is a prefix: its files are PREFIX-SET.csv, one per set; the first set is the originals. Recordings pair by
 * id without the audio extension, so a copy in another format (bench/codec-copies.ts) pairs with its original. Per
 * set, each model's answers on the copy are also paired with its answers on the originals (right on only one of the
 * two, McNemar's exact p).
 */
import { basename, extname } from 'node:path';
import { AUDIO_EXTENSIONS } from '../src/data/corpus.js';
import { parseArgs } from 'node:util';
import { type PredictionRow, mcNemarExactP, readPredictions } from '../src/eval/predictions.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: [] },
    sets: { type: 'string' },
    watch: { type: 'string', default: 'sad' },
  },
});
const sets = (args.sets ?? '').split(',').filter((set) => set !== '');
if (sets.length < 2 || args.model.length < 1 || args.model.length > 2) {
  throw new Error('give --sets ORIGINALS,COPIES[,...] and one or two --model PREFIX (files PREFIX-SET.csv)');
}

/** A recording's id without its audio extension: `Actor_13/x.opus` and `Actor_13/x.wav` are the same recording. */
function recordingKey(id: string): string {
  const extension = extname(id);
  return AUDIO_EXTENSIONS.includes(extension.toLowerCase()) ? id.slice(0, -extension.length) : id;
}

/** Each set's rows by recording key, for one model; every set must hold exactly the originals' recordings, once each. */
function load(prefix: string): Array<Map<string, PredictionRow>> {
  const bySet = sets.map((set) => {
    const file = `${prefix}-${set}.csv`;
    const rows = readPredictions(file);
    const byId = new Map(rows.map((row) => [recordingKey(row.id), row]));
    if (byId.size !== rows.length) throw new Error(`${file}: ${rows.length - byId.size} recording ids appear twice`);
    return byId;
  });
  const ids = [...(bySet[0] as Map<string, PredictionRow>).keys()];
  bySet.forEach((rows, s) => {
    const missing = ids.filter((id) => !rows.has(id));
    if (missing.length > 0)
      throw new Error(
        `${prefix}-${sets[s]}.csv: ${missing.length} of the ${ids.length} recordings of ${sets[0]} missing (e.g. ${missing[0]})`,
      );
    if (rows.size !== ids.length)
      throw new Error(`${prefix}-${sets[s]}.csv: ${rows.size - ids.length} recordings that ${sets[0]} does not have`);
  });
  return bySet;
}

const models = args.model.map((prefix) => ({ name: basename(prefix), bySet: load(prefix) }));
const ids = [...((models[0] as (typeof models)[number]).bySet[0] as Map<string, PredictionRow>).keys()];
for (const model of models.slice(1)) {
  const originals = model.bySet[0] as Map<string, PredictionRow>;
  const other = ids.find((id) => !originals.has(id)) ?? [...originals.keys()].find((id) => !ids.includes(id));
  if (other !== undefined || originals.size !== ids.length)
    throw new Error(`${model.name} and ${models[0]?.name} hold different recordings (e.g. ${other}): pairing needs the same ones`);
}
const at = (m: number, s: number, id: string) => models[m]?.bySet[s]?.get(id) as PredictionRow;
const changed = (m: number, s: number, id: string) => at(m, s, id).predicted !== at(m, 0, id).predicted;
if (!ids.some((id) => at(0, 0, id).true === args.watch)) {
  throw new Error(`--watch ${args.watch}: no recording of ${sets[0]} has that class (give one of the classes in its 'true' column)`);
}

console.log(`${ids.length} recordings; answers changed = differing from the model's own answer on ${sets[0]}`);
for (const [m, model] of models.entries()) {
  console.log(`\n${model.name}`);
  sets.forEach((set, s) => {
    const right = ids.filter((id) => at(m, s, id).predicted === at(m, s, id).true).length;
    const moved = ids.filter((id) => changed(m, s, id)).length;
    const watched = ids.filter((id) => at(m, s, id).predicted === args.watch).length;
    const isRight = (t: number, id: string) => at(m, t, id).predicted === at(m, t, id).true;
    const onlyOriginal = ids.filter((id) => isRight(0, id) && !isRight(s, id)).length;
    const onlyCopy = ids.filter((id) => !isRight(0, id) && isRight(s, id)).length;
    const pairing =
      s === 0
        ? ''
        : `  right only on ${sets[0]} ${onlyOriginal}, only here ${onlyCopy}, p = ${mcNemarExactP(onlyOriginal, onlyCopy).toPrecision(3)}`;
    console.log(
      `  ${set.padEnd(24)} accuracy ${((100 * right) / ids.length).toFixed(2)}%  changed ${String(moved).padStart(4)}  called ${args.watch} ${watched}${pairing}`,
    );
  });
}

if (models.length === 2) {
  const [a, b] = [models[0]?.name, models[1]?.name];
  console.log(`\n${a} against ${b}, paired`);
  sets.forEach((set, s) => {
    const onlyA = ids.filter((id) => at(0, s, id).predicted === at(0, s, id).true && at(1, s, id).predicted !== at(1, s, id).true).length;
    const onlyB = ids.filter((id) => at(1, s, id).predicted === at(1, s, id).true && at(0, s, id).predicted !== at(0, s, id).true).length;
    console.log(
      `  ${set.padEnd(24)} right only with ${a}: ${onlyA}, only with ${b}: ${onlyB}, McNemar p = ${mcNemarExactP(onlyA, onlyB).toPrecision(3)}`,
    );
  });
  let changedOnlyA = 0;
  let changedOnlyB = 0;
  for (let s = 1; s < sets.length; s++) {
    for (const id of ids) {
      if (changed(0, s, id) && !changed(1, s, id)) changedOnlyA++;
      if (changed(1, s, id) && !changed(0, s, id)) changedOnlyB++;
    }
  }
  console.log(
    `  changed answers over the ${sets.length - 1} copy sets (${(sets.length - 1) * ids.length} pairs): only ${a} ${changedOnlyA}, only ${b} ${changedOnlyB}, McNemar p = ${mcNemarExactP(changedOnlyA, changedOnlyB).toPrecision(3)}`,
  );
}
