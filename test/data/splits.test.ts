import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  PART_NAMES,
  type Split,
  type Utterance,
  adoptSplit,
  allocateProportionally,
  applySplit,
  loadCorpus,
  loadSplit,
  makeSplit,
  mulberry32,
  parseCremaDName,
  partSizes,
  randomStratifiedSplit,
  readCremaDDemographics,
  saveSplit,
  shuffleInPlace,
  speakerDisjointSplit,
} from '../../src/data/index.js';
import { assetPath } from '../../src/io/paths.js';
import { hasShared, sharedDir } from '../helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-data-splits-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** CREMA-D's real class counts (7,442 clips): derived from SentenceFilenames.csv, checked below when ../shared is present. */
const CREMA_D_COUNTS: Record<string, number> = { angry: 1271, disgust: 1271, fear: 1271, happy: 1271, neutral: 1087, sad: 1271 };

function syntheticCremaD(): Utterance[] {
  const out: Utterance[] = [];
  for (const [label, count] of Object.entries(CREMA_D_COUNTS)) {
    for (let i = 0; i < count; i++)
      out.push({ path: `/x/${label}-${i}.wav`, id: `${label}-${i}.wav`, label, speaker: String(1001 + (i % 91)), corpus: 'crema-d' });
  }
  return out;
}

function partOf(split: Split): Map<string, string> {
  const m = new Map<string, string>();
  for (const [part, ids] of Object.entries(split.parts)) for (const id of ids) m.set(id, part);
  return m;
}

test('partSizes follows sklearn: test = ceil(0.3 N), validation = ceil(0.1 (N - test))', () => {
  assert.deepEqual(partSizes(7442), { train: 4688, validation: 521, test: 2233 });
  assert.deepEqual(partSizes(1080), { train: 680, validation: 76, test: 324 });
  assert.deepEqual(partSizes(360), { train: 226, validation: 26, test: 108 });
  assert.deepEqual(partSizes(10), { train: 6, validation: 1, test: 3 });
});

test('allocateProportionally: exact totals by largest remainder', () => {
  const random = mulberry32(1);
  assert.deepEqual(allocateProportionally([10, 20, 70], 10, random), [1, 2, 7]);
  // quotas 1.5, 1.5, 7 (remainders .5 .5 0): the two .5s share the one missing unit -> one of them gets 2
  const tie = allocateProportionally([15, 15, 70], 10, random);
  assert.equal(tie[0]! + tie[1]! + tie[2]!, 10);
  assert.equal(tie[2], 7);
  assert.deepEqual([tie[0], tie[1]].sort(), [1, 2]);
  assert.deepEqual(allocateProportionally([0, 0], 3, random), [0, 0]);
});

test('mulberry32 reproduces the reference C implementation', () => {
  // uint32 outputs of Tommy Ettinger's C mulberry32 (compiled with gcc): seed 1 -> 2693262067, 11749833,
  // 2265367787; seed 42 -> 2581720956. We return them divided by 2^32.
  const random = mulberry32(1);
  assert.deepEqual(
    [random(), random(), random()].map((x) => x * 4294967296),
    [2693262067, 11749833, 2265367787],
  );
  assert.equal(mulberry32(42)() * 4294967296, 2581720956);
});

test('random stratified on CREMA-D counts: exactly 4,688 / 521 / 2,233, per class by largest remainder', () => {
  const utterances = syntheticCremaD();
  const split = randomStratifiedSplit(utterances, { seed: 7 });
  assert.equal(split.protocol, 'random-stratified');
  assert.equal(split.seed, 7);
  assert.deepEqual(Object.fromEntries(Object.entries(split.parts).map(([part, ids]) => [part, ids.length])), {
    train: 4688,
    validation: 521,
    test: 2233,
  });
  // Hand-derived: test quotas 1271 * 2233 / 7442 = 381.37 (x5), 1087 * 2233 / 7442 = 326.16; floors sum to 2231,
  // so two of the five 1271-classes (tie, seeded) get 382. Validation from the rest: 889 or 890 -> quota 88.92 /
  // 89.02, neutral 761 -> 76.11; floors 519, the two .92s get +1: every 1271-class 89, neutral 76.
  const testCounts = Object.entries(split.counts.test)
    .filter(([label]) => label !== 'neutral')
    .map(([, n]) => n)
    .sort();
  assert.deepEqual(testCounts, [381, 381, 381, 382, 382]);
  assert.equal(split.counts.test.neutral, 326);
  assert.deepEqual(split.counts.validation, { angry: 89, disgust: 89, fear: 89, happy: 89, neutral: 76, sad: 89 });
  for (const label of Object.keys(CREMA_D_COUNTS)) {
    const counts: Record<string, Record<string, number>> = split.counts;
    const total: number = PART_NAMES.reduce((sum, part) => sum + (counts[part]?.[label] ?? 0), 0);
    assert.equal(total, CREMA_D_COUNTS[label], label);
  }
  // Every utterance in exactly one part.
  assert.equal(partOf(split).size, 7442);
});

test('same seed -> same split (whatever the input order); different seed -> different split', () => {
  const utterances = syntheticCremaD();
  const a = randomStratifiedSplit(utterances, { seed: 42 });
  const b = randomStratifiedSplit(shuffleInPlace([...utterances], mulberry32(9)), { seed: 42 });
  assert.deepEqual(a, b);
  const c = randomStratifiedSplit(utterances, { seed: 43 });
  assert.deepEqual(c.counts.validation, a.counts.validation);
  assert.notDeepEqual(c.parts.test, a.parts.test);
  const s1 = speakerDisjointSplit(utterances, { seed: 1 });
  assert.deepEqual(speakerDisjointSplit([...utterances].reverse(), { seed: 1 }), s1);
  assert.notDeepEqual(speakerDisjointSplit(utterances, { seed: 2 }).speakers, s1.speakers);
});

function checkSpeakerDisjoint(split: Split, utterances: Utterance[]): void {
  const speakersOf = (ids: string[]) => new Set(ids.map((id) => utterances.find((u) => u.id === id)?.speaker));
  const train = speakersOf(split.parts.train);
  const validation = speakersOf(split.parts.validation);
  const test = speakersOf(split.parts.test);
  for (const s of train) assert.ok(!validation.has(s) && !test.has(s), `speaker ${s} in train and another part`);
  for (const s of validation) assert.ok(!test.has(s), `speaker ${s} in validation and test`);
  assert.equal(partOf(split).size, utterances.length);
  assert.deepEqual(split.speakers, {
    train: [...train].sort(),
    validation: [...validation].sort(),
    test: [...test].sort(),
  });
}

test('speaker-disjoint on the embedded RAVDESS subset (6 actors)', () => {
  const { utterances, labels } = loadCorpus({ dataset: 'ravdess', path: assetPath('corpus', 'ravdess') });
  const split = makeSplit('speaker', utterances, { seed: 3, labels });
  assert.equal(split.protocol, 'speaker-disjoint');
  checkSpeakerDisjoint(split, utterances);
  // 6 actors x 60 clips, targets train 226, validation 26, test 108. Actors per part 3/1/2 miss the totals by
  // 46, 34, 12 (sum of squares 3416), 4/1/1 by 14, 34, 48 (3656): 3/1/2 is closer, and its test part holds one
  // actor of each sex.
  assert.deepEqual([split.speakers?.train.length, split.speakers?.validation.length, split.speakers?.test.length], [3, 1, 2]);
  assert.deepEqual(split.speakers?.test.map((a) => Number(a) % 2).sort(), [0, 1]);
  // Every actor has the same class mix, so every part keeps it: 4 neutral and 8 of each other class per actor.
  assert.equal(split.counts.test.neutral, 2 * 4);
  assert.equal(split.counts.test.angry, 2 * 8);
});

test('speaker-disjoint on RAVDESS actors 01-18: sizes near 30 % / 7 %, sexes balanced', { skip: !hasShared && 'needs ../shared' }, () => {
  const { utterances, labels } = loadCorpus({ dataset: 'ravdess', path: join(sharedDir, 'data', 'ravdess') });
  for (const seed of [1, 2, 3]) {
    const split = speakerDisjointSplit(utterances, { seed, labels });
    checkSpeakerDisjoint(split, utterances);
    const test = split.speakers?.test ?? [];
    assert.ok(test.length === 5 || test.length === 6, `test actors ${test.join(',')}`);
    assert.equal(split.speakers?.validation.length, 1);
    const males = test.filter((a) => Number(a) % 2 === 1).length;
    assert.ok(Math.abs(2 * males - test.length) <= 1, `test actors ${test.join(',')} unbalanced by sex`);
  }
});

test('speaker-disjoint on CREMA-D (91 actors, real file list): class shares per part within 1.5 points', {
  skip: !hasShared && 'needs ../shared',
}, () => {
  const dir = join(sharedDir, 'data', 'crema-d');
  const names = readFileSync(join(dir, 'SentenceFilenames.csv'), 'utf8').match(/\d{4}_[A-Z]{3}_[A-Z]{3}_[A-Z]{1,2}/g) ?? [];
  const demographics = readCremaDDemographics(dir);
  const utterances: Utterance[] = names.map((name) => {
    const parsed = parseCremaDName(name);
    assert.ok(parsed.ok, name);
    return {
      path: `/x/${name}.wav`,
      id: `${name}.wav`,
      label: parsed.label,
      speaker: parsed.speaker,
      corpus: 'crema-d',
      sex: demographics.get(parsed.speaker)?.sex,
    };
  });
  // The class counts used by the synthetic tests above are CREMA-D's.
  const counts: Record<string, number> = {};
  for (const u of utterances) counts[u.label] = (counts[u.label] ?? 0) + 1;
  assert.deepEqual(counts, CREMA_D_COUNTS);
  assert.equal(randomStratifiedSplit(utterances, { seed: 0 }).parts.validation.length, 521);

  const split = speakerDisjointSplit(utterances, { seed: 11 });
  checkSpeakerDisjoint(split, utterances);
  const sizes = Object.fromEntries(Object.entries(split.parts).map(([part, ids]) => [part, ids.length]));
  assert.ok(Math.abs((sizes.test as number) - 2233) <= 82, `test has ${sizes.test}`);
  assert.ok(Math.abs((sizes.validation as number) - 521) <= 82, `validation has ${sizes.validation}`);
  for (const part of ['train', 'validation', 'test'] as const) {
    const n = split.parts[part].length;
    for (const [label, total] of Object.entries(CREMA_D_COUNTS)) {
      const share = (split.counts[part][label] ?? 0) / n;
      assert.ok(Math.abs(share - total / 7442) < 0.015, `${part} ${label}: ${(100 * share).toFixed(1)} %`);
    }
  }
  assert.ok((split.speakers?.test.length ?? 0) >= 25 && (split.speakers?.test.length ?? 0) <= 30);
});

test('save -> load -> apply reproduces the parts; mismatches are EDATA, bad files EFORMAT', () => {
  const { utterances, labels } = loadCorpus({ dataset: 'csv', path: assetPath('corpus') });
  const split = makeSplit('random', utterances, { seed: 5, labels });
  const file = join(scratch, 'run', 'split.json');
  saveSplit(file, split);
  const loaded = loadSplit(file);
  assert.deepEqual(loaded, split);
  const parts = applySplit(loaded, utterances);
  assert.deepEqual(
    parts.test.map((u) => u.id),
    split.parts.test,
  );
  assert.deepEqual([parts.train.length, parts.validation.length, parts.test.length], [226, 26, 108]);

  const fewer = utterances.slice(1);
  assert.throws(() => applySplit(loaded, fewer), { code: 'EDATA', message: /1 utterance\(s\) of the split are not in the corpus/ });
  assert.equal(Object.values(applySplit(loaded, fewer, { allowMissing: true })).flat().length, 359);
  const more = [...utterances, { ...(utterances[0] as Utterance), id: 'new.wav' }];
  assert.throws(() => applySplit(loaded, more), { code: 'EDATA', message: /in no part of the split \(e\.g\. new\.wav\)/ });

  writeFileSync(join(scratch, 'bad.json'), '{"format":"other"}');
  assert.throws(() => loadSplit(join(scratch, 'bad.json')), { code: 'EFORMAT' });
  assert.throws(() => loadSplit(join(scratch, 'none.json')), { code: 'EIO' });
});

test('adoptSplit: a given split is used as it is, checked against the corpus, and loses only the recordings left out', () => {
  const corpus = loadCorpus({ dataset: 'ravdess', path: assetPath('corpus', 'ravdess') });
  const { utterances, labels } = corpus;
  const given = speakerDisjointSplit(utterances, { seed: 3, labels, heldOut: { speakers: ['02', '05'] } });
  const adopted = adoptSplit(given, corpus, utterances, 'given.json');
  assert.deepEqual(adopted, given);

  // Recordings left out after the split was written (unreadable, silent) leave their part; counts follow.
  const dropped = given.parts.test[0] as string;
  const droppedLabel = (utterances.find((u) => u.id === dropped) as Utterance).label;
  const fewer = adoptSplit(
    given,
    corpus,
    utterances.filter((u) => u.id !== dropped),
    'given.json',
  );
  assert.deepEqual(fewer.parts.test, given.parts.test.slice(1));
  assert.equal(fewer.counts.test[droppedLabel], (given.counts.test[droppedLabel] as number) - 1);
  assert.deepEqual(fewer.parts.train, given.parts.train);

  // Any assignment of the recordings is taken, here other speakers in test than a new split would choose.
  const byHand: Split = structuredClone(given);
  byHand.parts.train = given.parts.train.filter((id) => !id.startsWith('Actor_01/'));
  byHand.parts.test = [...given.parts.test, ...given.parts.train.filter((id) => id.startsWith('Actor_01/'))].sort();
  assert.deepEqual(adoptSplit(byHand, corpus, utterances, 'given.json').speakers?.test, ['01', '02', '05']);

  const broken = (change: (split: Split) => void) => {
    const split = structuredClone(given);
    change(split);
    return () => adoptSplit(split, corpus, utterances, 'given.json');
  };
  assert.throws(
    broken((split) => split.parts.train.push('Actor_99/x.wav')),
    { code: 'EDATA', message: /^split: given\.json: 1 of its 361 recordings are not in the corpora given \(e\.g\. Actor_99\/x\.wav\)/ },
  );
  assert.throws(
    broken((split) => split.parts.train.shift()),
    { code: 'EDATA', message: /^split: given\.json: 1 recordings of the corpora are in none of its parts/ },
  );
  assert.throws(
    broken((split) => split.parts.validation.push(split.parts.train[0] as string)),
    { code: 'EDATA', message: /is in both train and validation$/ },
  );
  const sharedSpeaker = given.parts.train[0] as string;
  assert.throws(
    broken((split) => {
      split.parts.train = split.parts.train.slice(1);
      split.parts.test.push(sharedSpeaker);
    }),
    { code: 'EDATA', message: /its protocol is speaker-disjoint but speaker '\d+' is in both/ },
  );
  assert.throws(
    broken((split) => {
      split.labels = split.labels.slice(1);
    }),
    { code: 'EDATA', message: /its classes are .*, the corpora's .*: give --labels / },
  );
  const withoutSpeaker = { labels, utterances: utterances.map((u, i) => (i === 0 ? { ...u, speaker: '' } : u)) };
  assert.throws(() => adoptSplit(given, withoutSpeaker, withoutSpeaker.utterances, 'given.json'), {
    code: 'EDATA',
    message: /its protocol is speaker-disjoint, but 1 recordings of the corpora have no speaker, so that cannot be checked/,
  });
  // Under the random protocol a speaker may be in several parts.
  const random = makeSplit('random', utterances, { seed: 5, labels });
  assert.deepEqual(adoptSplit(random, corpus, utterances, 'given.json').parts, random.parts);
});

test('validationFraction 0: no validation part; every speaker outside the test part trains', () => {
  const { utterances, labels } = loadCorpus({ dataset: 'ravdess', path: assetPath('corpus', 'ravdess') });
  const heldOut = { speakers: ['02', '05'] };
  const split = speakerDisjointSplit(utterances, { seed: 3, labels, validationFraction: 0, heldOut });
  assert.deepEqual(split.speakers, { train: ['01', '03', '04', '06'], validation: [], test: ['02', '05'] });
  assert.deepEqual([split.parts.train.length, split.parts.validation.length, split.parts.test.length], [240, 0, 120]);
  assert.equal(split.validationFraction, 0);
  // Without a held-out rule the test part is placed as usual and validation still takes no speaker.
  const free = speakerDisjointSplit(utterances, { seed: 3, labels, validationFraction: 0 });
  assert.equal(free.parts.validation.length, 0);
  assert.ok(free.parts.train.length > 0 && free.parts.test.length > 0);
  checkSpeakerDisjoint(free, utterances);
  const random = randomStratifiedSplit(utterances, { seed: 3, labels, validationFraction: 0 });
  assert.deepEqual([random.parts.train.length, random.parts.validation.length, random.parts.test.length], [252, 0, 108]);
  // The default keeps one.
  assert.ok(speakerDisjointSplit(utterances, { seed: 3, labels, heldOut }).parts.validation.length > 0);
  // Saved and applied like any split.
  const path = join(scratch, 'no-validation.json');
  saveSplit(path, split);
  assert.equal(applySplit(loadSplit(path), utterances).validation.length, 0);
});

test('split argument errors', () => {
  const utterances = syntheticCremaD().slice(0, 30);
  assert.throws(() => makeSplit('sideways', utterances, { seed: 1 }), { code: 'EARG', message: /expected random, speaker or corpus/ });
  assert.throws(() => randomStratifiedSplit(utterances, { seed: 1.5 }), { code: 'EARG' });
  assert.throws(() => randomStratifiedSplit(utterances, { seed: 1, testFraction: 1.2 }), { code: 'EARG', message: /1\.2 given/ });
  assert.throws(() => randomStratifiedSplit(utterances, { seed: 1, validationFraction: -0.1 }), {
    code: 'EARG',
    message: /validationFraction must be in \[0, 1\) \(-0\.1 given\)/,
  });
  assert.throws(() => randomStratifiedSplit(utterances, { seed: 1, testFraction: 0 }), {
    code: 'EARG',
    message: /testFraction must be in \(0, 1\)/,
  });
  assert.throws(() => randomStratifiedSplit(utterances.slice(0, 2), { seed: 1 }), { code: 'EDATA', message: /too few/ });
  const noSpeaker = utterances.map((u) => ({ ...u, speaker: '' }));
  assert.throws(() => speakerDisjointSplit(noSpeaker, { seed: 1 }), { code: 'EDATA', message: /30 have none/ });
  const twoSpeakers = utterances.map((u, i) => ({ ...u, speaker: String(i % 2) }));
  assert.throws(() => speakerDisjointSplit(twoSpeakers, { seed: 1 }), { code: 'EDATA', message: /at least 3 speakers \(2 found/ });
  assert.throws(() => randomStratifiedSplit([utterances[0]!, utterances[0]!, utterances[1]!], { seed: 1 }), {
    code: 'EDATA',
    message: /occurs twice/,
  });
});
