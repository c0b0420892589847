import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { assetPath } from '../../src/io/paths.js';
import { type Corpus, type CorpusName, labelIndices, loadCorpus, parseCsvRecords } from '../../src/data/index.js';
import { hasShared, sharedDir } from '../helpers.js';

const corpusDir = assetPath('corpus');
const dataDir = join(sharedDir, 'data');
const needsShared = { skip: !hasShared && 'needs ../shared' };
const scratch = mkdtempSync(join(tmpdir(), 'ser-data-corpus-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('CREMA-D folder (embedded samples): 12 clips, sex and age from VideoDemographics.csv', () => {
  const corpus = loadCorpus({ dataset: 'crema-d', path: join(corpusDir, 'crema-d') });
  assert.equal(corpus.utterances.length, 12);
  assert.deepEqual(corpus.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
  const first = corpus.utterances[0];
  assert.deepEqual(first && { ...first, path: undefined }, {
    path: undefined,
    id: '1001_DFA_ANG_XX.opus',
    label: 'angry',
    speaker: '1001',
    corpus: 'crema-d',
    sentence: 'DFA',
    intensity: 'unspecified',
    sex: 'male',
    age: 51,
  });
  assert.equal(corpus.utterances.find((u) => u.speaker === '1002')?.sex, 'female');
});

test('CREMA-D in a nested folder, demographics in the parent, bad names reported not thrown', () => {
  const root = join(scratch, 'crema');
  mkdirSync(join(root, 'AudioWAV', 'more'), { recursive: true });
  copyFileSync(join(corpusDir, 'crema-d', 'VideoDemographics.csv'), join(root, 'VideoDemographics.csv'));
  copyFileSync(join(corpusDir, 'crema-d', '1001_DFA_ANG_XX.opus'), join(root, 'AudioWAV', '1001_DFA_ANG_XX.opus'));
  copyFileSync(join(corpusDir, 'crema-d', '1002_DFA_SAD_XX.opus'), join(root, 'AudioWAV', 'more', '1002_DFA_SAD_XX.opus'));
  copyFileSync(join(corpusDir, 'crema-d', '1002_DFA_HAP_XX.opus'), join(root, 'AudioWAV', 'copy of 1002_DFA_HAP_XX.opus'));
  writeFileSync(join(root, 'AudioWAV', 'notes.txt'), 'not audio, not reported');
  const corpus = loadCorpus({ dataset: 'crema-d', path: join(root, 'AudioWAV') });
  assert.deepEqual(
    corpus.utterances.map((u) => [u.id, u.label, u.sex, u.age]),
    [
      ['1001_DFA_ANG_XX.opus', 'angry', 'male', 51],
      ['more/1002_DFA_SAD_XX.opus', 'sad', 'female', 21],
    ],
  );
  assert.equal(corpus.ignored.length, 1);
  assert.match(corpus.ignored[0]?.path ?? '', /copy of 1002_DFA_HAP_XX\.opus$/);
  assert.match(corpus.ignored[0]?.reason ?? '', /AAAA_SSS_EEE_LL/);
});

test('RAVDESS folder (embedded, actors 01-06): 360 clips, 8 classes, label specs applied', () => {
  const all = loadCorpus({ dataset: 'ravdess', path: join(corpusDir, 'ravdess') });
  assert.equal(all.utterances.length, 360);
  assert.equal(all.labels.length, 8);
  assert.deepEqual([...new Set(all.utterances.map((u) => u.speaker))], ['01', '02', '03', '04', '05', '06']);
  assert.equal(all.utterances.filter((u) => u.label === 'neutral').length, 6 * 4);
  assert.equal(all.utterances.filter((u) => u.label === 'calm').length, 6 * 8);
  const six = loadCorpus({ dataset: 'ravdess', path: join(corpusDir, 'ravdess'), labels: 'crema-d' });
  assert.deepEqual(six.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
  assert.equal(six.utterances.length, 360 - 2 * 6 * 8);
  assert.equal(six.ignored.length, 2 * 6 * 8);
  assert.match(six.ignored[0]?.reason ?? '', /class 'calm' is not in the label set/);
  assert.equal(six.utterances.filter((u) => u.label === 'fear').length, 48);
});

test('RAVDESS full set in ../shared: 1,080 clips of 18 actors', { skip: !hasShared && 'needs ../shared' }, () => {
  const corpus = loadCorpus({ dataset: 'ravdess', path: join(sharedDir, 'data', 'ravdess') });
  assert.equal(corpus.utterances.length, 1080);
  assert.equal(new Set(corpus.utterances.map((u) => u.speaker)).size, 18);
  assert.equal(corpus.ignored.length, 0);
});

/** How many items have each value of `key`. */
function countBy<T>(items: readonly T[], key: (item: T) => unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const value = String(key(item));
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

/**
 * Loads `dataset` from ../shared/data, checks that every audio file was read and that the classes, in the
 * corpus's order, have the counts given.
 */
function loadSharedCorpus(dataset: CorpusName, classCounts: Record<string, number>): Corpus {
  const corpus = loadCorpus({ dataset, path: join(dataDir, dataset) });
  assert.deepEqual(corpus.ignored, [], dataset);
  assert.deepEqual(corpus.labels, Object.keys(classCounts), dataset);
  assert.deepEqual(
    countBy(corpus.utterances, (u) => u.label),
    classCounts,
    dataset,
  );
  return corpus;
}

test('nEMO in ../shared: 4,481 clips, per-class counts, sex and age of the 9 speakers as in data.tsv', needsShared, () => {
  const { records } = parseCsvRecords(readFileSync(join(dataDir, 'nemo', 'data.tsv'), 'utf8'), 'data.tsv', '\t');
  const classCounts = { anger: 749, fear: 736, happiness: 749, neutral: 809, sadness: 769, surprised: 669 };
  assert.deepEqual(
    countBy(records, (record) => record['emotion']),
    classCounts,
  );
  const corpus = loadSharedCorpus('nemo', classCounts);
  assert.equal(corpus.utterances.length, 4481);
  const speakers = new Map(records.map((record) => [record['speaker_id']?.trim(), `${record['gender']} ${record['age']}`]));
  assert.equal(speakers.size, 9);
  for (const u of corpus.utterances) assert.equal(`${u.sex} ${u.age}`, speakers.get(u.speaker), u.id);
  assert.deepEqual(
    countBy(corpus.utterances, (u) => u.sex),
    { female: 539 + 540 + 540 + 450, male: 540 + 256 + 538 + 539 + 539 },
  );
  const first = corpus.utterances[0];
  assert.deepEqual(first && { ...first, path: undefined }, {
    path: undefined,
    id: 'samples/EB0_anger_1.opus',
    label: 'anger',
    speaker: 'EB0',
    corpus: 'nemo',
    sentence: '1',
    sex: 'female',
    age: 27,
  });
  // Pointed at samples/ itself, data.tsv is found in the parent.
  const samples = loadCorpus({ dataset: 'nemo', path: join(dataDir, 'nemo', 'samples') });
  assert.equal(samples.utterances.filter((u) => u.sex === undefined).length, 0);
});

test('EMOVO in ../shared: 588 clips, 6 speakers with their sex, 84 per class', needsShared, () => {
  const corpus = loadSharedCorpus('emovo', { disgust: 84, joy: 84, neutral: 84, fear: 84, anger: 84, surprise: 84, sadness: 84 });
  assert.deepEqual(
    countBy(corpus.utterances, (u) => `${u.speaker} ${u.sex}`),
    {
      'f1 female': 98,
      'f2 female': 98,
      'f3 female': 98,
      'm1 male': 98,
      'm2 male': 98,
      'm3 male': 98,
    },
  );
  for (const u of corpus.utterances) assert.equal(u.id.split('/')[0], u.speaker, u.id);
  assert.equal(new Set(corpus.utterances.map((u) => u.sentence)).size, 14);
});

test('URDU in ../shared: 400 clips, 100 per class; the names hold 29 speaker ids (README: 38 speakers)', needsShared, () => {
  const corpus = loadSharedCorpus('urdu', { angry: 100, happy: 100, neutral: 100, sad: 100 });
  // Speaker ids F1-F11 and M1-M7, M17-M27: the README's 11 women, but 18 of its 27 men (see file-names.ts).
  const speakers = new Map(corpus.utterances.map((u) => [u.speaker, u.sex]));
  assert.equal(speakers.size, 29);
  assert.deepEqual(
    countBy([...speakers.values()], (sex) => sex),
    { female: 11, male: 18 },
  );
  assert.deepEqual(
    countBy(corpus.utterances, (u) => u.sex),
    { female: 56, male: 344 },
  );
});

test('URDU: a file whose emotion letter disagrees with its folder is ignored with the reason', () => {
  const root = join(scratch, 'Sad'); // the corpus folder's own name is not an emotion folder
  mkdirSync(join(root, 'Happy'), { recursive: true });
  const clip = join(corpusDir, 'crema-d', '1001_DFA_ANG_XX.opus'); // any audio: names are all that is read
  copyFileSync(clip, join(root, 'Happy', 'SM1_F1_H01.opus'));
  copyFileSync(clip, join(root, 'Happy', 'SM1_F2_A01.opus'));
  copyFileSync(clip, join(root, 'SF1_F1_N01.opus'));
  const corpus = loadCorpus({ dataset: 'urdu', path: root });
  assert.deepEqual(
    corpus.utterances.map((u) => [u.id, u.label, u.speaker, u.sex]),
    [
      ['Happy/SM1_F1_H01.opus', 'happy', 'M1', 'male'],
      ['SF1_F1_N01.opus', 'neutral', 'F1', 'female'],
    ],
  );
  assert.deepEqual(
    corpus.ignored.map((entry) => entry.reason),
    ['emotion letter A (angry) disagrees with its folder Happy (move the file or correct its name)'],
  );
});

test('Korean emotiontts in ../shared: 300 clips, 75 per class, 15 distinct speakers named by their folders', needsShared, () => {
  const corpus = loadSharedCorpus('korean-emotiontts', { neutral: 75, happy: 75, angry: 75, sad: 75 });
  for (const u of corpus.utterances) assert.equal(u.id.split('/')[1], u.speaker, u.id);
  // 10 + 5 speaker folders below the two top folders, and 15 speakers: no name is used in both.
  const speakerFolders = new Set(corpus.utterances.map((u) => u.id.split('/').slice(0, 2).join('/')));
  assert.deepEqual(
    countBy([...speakerFolders], (folder) => folder.split('/')[0]),
    { 'emotional-to-emotional': 10, 'plain-to-emotional': 5 },
  );
  assert.equal(new Set(corpus.utterances.map((u) => u.speaker)).size, 15);
  // README.upstream.md does not give the speakers' sex.
  assert.equal(corpus.utterances.filter((u) => u.sex !== undefined).length, 0);
});

test("--labels six on each corpus in ../shared keeps the paper's classes it has, under their canonical names", needsShared, () => {
  // dataset (its folder in ../shared/data), classes kept, utterances kept (nEMO drops 669 surprised, EMOVO 84
  // surprise, RAVDESS calm and surprised).
  const table: Array<[CorpusName, string[], number]> = [
    ['nemo', ['angry', 'fear', 'happy', 'neutral', 'sad'], 4481 - 669],
    ['emovo', ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'], 588 - 84],
    ['urdu', ['angry', 'happy', 'neutral', 'sad'], 400],
    ['korean-emotiontts', ['angry', 'happy', 'neutral', 'sad'], 300],
    ['ravdess', ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'], 1080 - 2 * 18 * 8],
  ];
  for (const [dataset, labels, count] of table) {
    const corpus = loadCorpus({ dataset, path: join(dataDir, dataset), labels: 'six' });
    assert.deepEqual(corpus.labels, labels, dataset);
    assert.equal(corpus.utterances.length, count, dataset);
    assert.deepEqual(Object.keys(countBy(corpus.utterances, (u) => u.label)).sort(), labels, dataset);
  }
});

test('folders: the first folder below the root is the label, any depth below it; files at the root are ignored', () => {
  const root = join(scratch, 'my recordings');
  mkdirSync(join(root, 'Angry', 'session 2', 'phone'), { recursive: true });
  mkdirSync(join(root, 'sad'), { recursive: true });
  copyFileSync(join(corpusDir, 'crema-d', '1001_DFA_ANG_XX.opus'), join(root, 'Angry', 'first.opus'));
  copyFileSync(join(corpusDir, 'crema-d', '1002_DFA_ANG_XX.opus'), join(root, 'Angry', 'session 2', 'phone', 'take 1.opus'));
  copyFileSync(join(corpusDir, 'crema-d', '1002_DFA_SAD_XX.opus'), join(root, 'sad', '1002_DFA_SAD_XX.opus'));
  copyFileSync(join(corpusDir, 'crema-d', '1001_DFA_HAP_XX.opus'), join(root, 'unsorted.opus'));
  writeFileSync(join(root, 'sad', 'notes.txt'), 'not audio, not reported');
  const corpus = loadCorpus({ dataset: 'folders', path: root });
  assert.deepEqual(corpus.labels, ['Angry', 'sad']);
  assert.deepEqual(
    corpus.utterances.map((u) => [u.id, u.label, u.speaker, u.corpus]),
    [
      ['Angry/first.opus', 'Angry', '', 'folders'],
      ['Angry/session 2/phone/take 1.opus', 'Angry', '', 'folders'],
      ['sad/1002_DFA_SAD_XX.opus', 'sad', '', 'folders'],
    ],
  );
  assert.deepEqual(corpus.ignored, [
    {
      path: join(root, 'unsorted.opus'),
      reason: 'file directly in the corpus folder; the folders format reads ROOT/<label>/<file> (move it into its class folder)',
    },
  ]);
  // Folder names are matched to the paper's classes by emotion synonym, ignoring case.
  const six = loadCorpus({ dataset: 'folders', path: root, labels: 'six' });
  assert.deepEqual(six.labels, ['angry', 'sad']);
  assert.deepEqual(
    six.utterances.map((u) => u.label),
    ['angry', 'angry', 'sad'],
  );
  assert.throws(() => loadCorpus({ dataset: 'folders', path: join(root, 'sad', '1002_DFA_SAD_XX.opus') }), {
    code: 'EARG',
    message: /the folders corpus is a folder, not a file/,
  });
});

test('CSV manifest: relative paths against its folder, speaker and metadata columns, missing files reported', () => {
  const corpus = loadCorpus({ dataset: 'csv', path: corpusDir });
  assert.equal(corpus.utterances.length, 360);
  assert.equal(corpus.root, corpusDir);
  assert.deepEqual(corpus.labels, ['angry', 'calm', 'disgust', 'fearful', 'happy', 'neutral', 'sad', 'surprised']);
  const u = corpus.utterances.find((x) => x.id === 'ravdess/Actor_02/03-01-05-02-02-01-02.opus');
  assert.deepEqual(u && { label: u.label, speaker: u.speaker, sex: u.sex, corpus: u.corpus }, {
    label: 'angry',
    speaker: '02',
    sex: 'female',
    corpus: 'csv',
  });

  const manifest = join(scratch, 'lists', 'my list.csv');
  mkdirSync(join(scratch, 'lists'), { recursive: true });
  mkdirSync(join(scratch, 'clips'), { recursive: true });
  copyFileSync(join(corpusDir, 'crema-d', '1002_DFA_SAD_XX.opus'), join(scratch, 'clips', 'b.opus'));
  const clip = join(corpusDir, 'crema-d', '1001_DFA_ANG_XX.opus');
  writeFileSync(
    manifest,
    [
      'label,path,notes',
      `"angry","${clip}","absolute, quoted"`,
      'sad,../clips/b.opus,relative',
      'happy,missing.wav,gone',
      'angry,../clips/b.opus,listed twice',
      ',empty-label.wav,x',
    ].join('\n'),
  );
  const fromCsv = loadCorpus({ dataset: 'csv', path: manifest, labels: 'angry,sad' });
  assert.deepEqual(
    fromCsv.utterances.map((x) => [x.id, x.label, x.speaker]),
    [
      [relative(join(scratch, 'lists'), clip), 'angry', ''],
      ['../clips/b.opus', 'sad', ''],
    ],
  );
  assert.deepEqual(
    fromCsv.ignored.map((x) => x.reason),
    ['my list.csv row 3: file not found', 'my list.csv row 4: same file as row 2', 'my list.csv row 5: empty label'],
  );
  assert.deepEqual([...labelIndices(fromCsv.utterances, fromCsv.labels)], [0, 1]);
  assert.throws(() => labelIndices(fromCsv.utterances, ['sad', 'happy']), {
    code: 'EDATA',
    message: /label 'angry' is not one of the model's classes \(sad, happy\)/,
  });
});

test('errors: missing path, empty corpus, manifest without label column, unknown label', () => {
  assert.throws(() => loadCorpus({ dataset: 'ravdess', path: join(scratch, 'nope') }), { code: 'EIO', message: /no such file or folder/ });
  assert.throws(() => loadCorpus({ dataset: 'ravdess', path: join(corpusDir, 'crema-d') }), {
    code: 'EDATA',
    message:
      /no usable ravdess utterances; expected audio files named like 03-01-05-01-02-01-12\.wav.*found 12 unusable file\(s\), e\.g\. 1001_DFA_ANG_XX\.opus/,
  });
  const empty = join(scratch, 'empty');
  mkdirSync(empty);
  assert.throws(() => loadCorpus({ dataset: 'crema-d', path: empty }), { code: 'EDATA', message: /found no audio files at all/ });
  const noLabel = join(scratch, 'nolabel.csv');
  writeFileSync(noLabel, 'path,emotion\na.wav,sad\n');
  assert.throws(() => loadCorpus({ dataset: 'csv', path: noLabel }), {
    code: 'EFORMAT',
    message: /no 'label' column \(found: path, emotion/,
  });
  assert.throws(() => loadCorpus({ dataset: 'crema-d', path: join(corpusDir, 'crema-d'), labels: 'angry,fearful' }), {
    code: 'EDATA',
    message: /unknown label fearful; valid names: angry, disgust, fear, happy, neutral, sad/,
  });
});

test('RAVDESS with Actor folders as symbolic links: followed, ids by the link name; loops and second links read once', () => {
  const root = join(scratch, 'linked-ravdess');
  const elsewhere = join(scratch, 'elsewhere');
  mkdirSync(root, { recursive: true });
  mkdirSync(elsewhere, { recursive: true });
  const direct = loadCorpus({ dataset: 'ravdess', path: join(corpusDir, 'ravdess') });
  for (const actor of ['Actor_01', 'Actor_02']) symlinkSync(join(corpusDir, 'ravdess', actor), join(root, actor));
  // Actor_03 through a link to a folder that links on to the real one.
  symlinkSync(join(corpusDir, 'ravdess', 'Actor_03'), join(elsewhere, 'Actor_03'));
  symlinkSync(elsewhere, join(root, 'more'));
  symlinkSync(root, join(root, 'loop'));
  symlinkSync(join(corpusDir, 'ravdess', 'Actor_01'), join(root, 'Actor_01-again'));
  symlinkSync(join(scratch, 'no-such-file.wav'), join(root, '03-01-05-01-01-01-04.wav'));
  const linked = loadCorpus({ dataset: 'ravdess', path: root });
  const expected = direct.utterances.filter((u) => /^Actor_0[123]\//.test(u.id));
  assert.equal(linked.utterances.length, expected.length);
  assert.ok(expected.length > 100, `${expected.length} clips of actors 01-03`);
  assert.deepEqual(
    linked.utterances.map((u) => u.id.replace(/^more\//, '')),
    expected.map((u) => u.id),
  );
  const reasons = linked.ignored.map((entry) => `${relative(root, entry.path)}: ${entry.reason}`);
  assert.ok(
    reasons.some((r) => /^loop: folder already listed as .*linked-ravdess \(a symbolic link loop/.test(r)),
    reasons.join('\n'),
  );
  assert.ok(
    reasons.some((r) => /^Actor_01(-again)?: folder already listed as .*Actor_01(-again)?/.test(r)),
    reasons.join('\n'),
  );
  assert.ok(
    reasons.some((r) => /^03-01-05-01-01-01-04\.wav: broken symbolic link \(ENOENT\)/.test(r)),
    reasons.join('\n'),
  );
});
