import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { assetPath } from '../../src/io/paths.js';
import { labelIndices, loadCorpus, parseCremaDName, parseRavdessName } from '../../src/data/index.js';
import { hasShared, sharedDir } from '../helpers.js';

const corpusDir = assetPath('corpus');
const scratch = mkdtempSync(join(tmpdir(), 'ser-data-corpus-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('CREMA-D names: real names parse, tricky ones are rejected with a reason', () => {
  assert.deepEqual(parseCremaDName('1001_DFA_ANG_XX.wav'), {
    ok: true,
    label: 'angry',
    speaker: '1001',
    sentence: 'DFA',
    intensity: 'unspecified',
  });
  assert.deepEqual(parseCremaDName('AudioWAV/1091_WSI_DIS_XX.wav'), {
    ok: true,
    label: 'disgust',
    speaker: '1091',
    sentence: 'WSI',
    intensity: 'unspecified',
  });
  const table: Array<[string, string, string]> = [
    ['1001_IEO_HAP_LO.wav', 'happy', 'low'],
    ['1001_IEO_FEA_MD.flac', 'fear', 'medium'],
    ['1001_IEO_SAD_HI.wav', 'sad', 'high'],
    ['1076_MTI_NEU_X.wav', 'neutral', 'unspecified'],
  ];
  for (const [name, label, intensity] of table) {
    const parsed = parseCremaDName(name);
    assert.ok(parsed.ok, name);
    assert.equal(parsed.label, label, name);
    assert.equal(parsed.intensity, intensity, name);
  }
  const bad: Array<[string, RegExp]> = [
    ['1001_DFA_ANG.wav', /does not match/],
    ['1001_DFA_ANG_XX (1).wav', /does not match/],
    ['1001_dfa_ANG_XX.wav', /does not match/],
    ['1001_DFA_XXX_XX.wav', /emotion code XXX/],
    ['1001_DFA_ANG_QQ.wav', /level code QQ/],
    ['03-01-05-01-02-01-12.wav', /does not match/],
  ];
  for (const [name, reason] of bad) {
    const parsed = parseCremaDName(name);
    assert.equal(parsed.ok, false, name);
    if (!parsed.ok) assert.match(parsed.reason, reason, name);
  }
});

test('RAVDESS names: fields, sex from the actor number, song and out-of-range codes rejected', () => {
  assert.deepEqual(parseRavdessName('03-01-05-01-02-01-12.wav'), {
    ok: true,
    label: 'angry',
    speaker: '12',
    sentence: '02',
    intensity: 'normal',
    sex: 'female',
  });
  const strong = parseRavdessName('Actor_01/03-01-08-02-01-02-01.wav');
  assert.ok(strong.ok);
  assert.equal(strong.label, 'surprised');
  assert.equal(strong.intensity, 'strong');
  assert.equal(strong.sex, 'male');
  const bad: Array<[string, RegExp]> = [
    ['03-02-01-01-01-01-01.wav', /song/],
    ['03-01-09-01-01-01-01.wav', /emotion 9/],
    ['03-01-00-01-01-01-01.wav', /emotion 0/],
    ['03-01-01-03-01-01-01.wav', /intensity 3/],
    ['03-01-01-01-03-01-01.wav', /statement 3/],
    ['03-01-01-01-01-01-25.wav', /actor 25/],
    ['03-01-01-01-01-01-1.wav', /does not match/],
    ['1001_DFA_ANG_XX.wav', /does not match/],
  ];
  for (const [name, reason] of bad) {
    const parsed = parseRavdessName(name);
    assert.equal(parsed.ok, false, name);
    if (!parsed.ok) assert.match(parsed.reason, reason, name);
  }
});

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
