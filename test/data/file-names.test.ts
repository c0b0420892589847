import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type NameParse,
  parseCremaDName,
  parseEmovoName,
  parseKoreanEmotionTtsName,
  parseLabelFolder,
  parseNemoName,
  parseRavdessName,
  parseUrduName,
} from '../../src/data/index.js';

/** Each name parses to the fields given (a subset of the result), or is rejected with a reason matching the pattern. */
function checkNames(
  parse: (path: string) => NameParse,
  good: Array<[string, Record<string, string | undefined>]>,
  bad: Array<[string, RegExp]>,
): void {
  for (const [path, fields] of good) {
    const parsed = parse(path);
    assert.ok(parsed.ok, `${path}: ${parsed.ok ? '' : parsed.reason}`);
    for (const [key, value] of Object.entries(fields)) assert.equal(parsed[key as keyof typeof parsed], value, `${path} ${key}`);
  }
  for (const [path, reason] of bad) {
    const parsed = parse(path);
    assert.equal(parsed.ok, false, path);
    if (!parsed.ok) assert.match(parsed.reason, reason, path);
  }
}

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
  checkNames(
    parseCremaDName,
    [
      ['1001_IEO_HAP_LO.wav', { label: 'happy', intensity: 'low' }],
      ['1001_IEO_FEA_MD.flac', { label: 'fear', intensity: 'medium' }],
      ['1001_IEO_SAD_HI.wav', { label: 'sad', intensity: 'high' }],
      ['1076_MTI_NEU_X.wav', { label: 'neutral', intensity: 'unspecified' }],
    ],
    [
      ['1001_DFA_ANG.wav', /does not match/],
      ['1001_DFA_ANG_XX (1).wav', /does not match/],
      ['1001_dfa_ANG_XX.wav', /does not match/],
      ['1001_DFA_XXX_XX.wav', /emotion code XXX/],
      ['1001_DFA_ANG_QQ.wav', /level code QQ/],
      ['03-01-05-01-02-01-12.wav', /does not match/],
    ],
  );
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
  checkNames(
    parseRavdessName,
    [['Actor_01/03-01-08-02-01-02-01.wav', { label: 'surprised', intensity: 'strong', sex: 'male' }]],
    [
      ['03-02-01-01-01-01-01.wav', /song/],
      ['03-01-09-01-01-01-01.wav', /emotion 9/],
      ['03-01-00-01-01-01-01.wav', /emotion 0/],
      ['03-01-01-03-01-01-01.wav', /intensity 3/],
      ['03-01-01-01-03-01-01.wav', /statement 3/],
      ['03-01-01-01-01-01-25.wav', /actor 25/],
      ['03-01-01-01-01-01-1.wav', /does not match/],
      ['1001_DFA_ANG_XX.wav', /does not match/],
    ],
  );
});

test('nEMO names: speaker, emotion written out, sentence id; sex and age are not in the name', () => {
  assert.deepEqual(parseNemoName('samples/EB0_anger_1.opus'), { ok: true, label: 'anger', speaker: 'EB0', sentence: '1' });
  checkNames(
    parseNemoName,
    [
      ['WR0_surprised_64.wav', { label: 'surprised', speaker: 'WR0', sentence: '64', sex: undefined }],
      ['MP0_happiness_90.opus', { label: 'happiness', speaker: 'MP0', sentence: '90' }],
      ['KS0_sadness_7.flac', { label: 'sadness', speaker: 'KS0' }],
    ],
    [
      ['EB0_surprise_1.wav', /emotion surprise is not one of anger fear happiness neutral sadness surprised/],
      ['EB0_Anger_1.wav', /does not match nEMO's/],
      ['EB0_anger.wav', /does not match/],
      ['EB0_anger_1 (copy).wav', /does not match/],
      ['eb0_anger_1.wav', /does not match/],
      ['1001_DFA_ANG_XX.wav', /does not match/],
    ],
  );
});

test('EMOVO names: emotion code, speaker f1..m3 with its sex, sentence code', () => {
  assert.deepEqual(parseEmovoName('f1/rab-f1-b1.opus'), { ok: true, label: 'anger', speaker: 'f1', sentence: 'b1', sex: 'female' });
  checkNames(
    parseEmovoName,
    [
      ['dis-m3-n5.wav', { label: 'disgust', speaker: 'm3', sentence: 'n5', sex: 'male' }],
      ['gio-f2-l4.wav', { label: 'joy' }],
      ['neu-m1-d2.wav', { label: 'neutral' }],
      ['pau-m2-b3.wav', { label: 'fear' }],
      ['sor-f3-l1.wav', { label: 'surprise' }],
      ['tri-f1-n1.wav', { label: 'sadness' }],
    ],
    [
      ['ang-f1-b1.wav', /emotion code ang is not one of dis gio neu pau rab sor tri/],
      ['rab-x1-b1.wav', /does not match EMOVO's/],
      ['RAB-f1-b1.wav', /does not match/],
      ['rab-f1-b1-2.wav', /does not match/],
      ['rab_f1_b1.wav', /does not match/],
    ],
  );
});

test('URDU names: emotion letter, speaker G+X with its sex; the letter must agree with an emotion folder', () => {
  assert.deepEqual(parseUrduName('Angry/SM1_F1_A01.opus'), { ok: true, label: 'angry', speaker: 'M1', sex: 'male' });
  checkNames(
    parseUrduName,
    [
      ['Happy/SF10_F2_H012.opus', { label: 'happy', speaker: 'F10', sex: 'female' }],
      ['Neutral/SM5_F72_N100.wav', { label: 'neutral', speaker: 'M5' }],
      ['Sad/SM24_F38_S055.wav', { label: 'sad', speaker: 'M24' }],
      ['SM2_F1_A023.wav', { label: 'angry', speaker: 'M2' }], // no folder: the letter decides
      ['clips/SM2_F1_A023.wav', { label: 'angry' }], // a folder that names no emotion is not checked
      ['sad/SF1_F1_S01.wav', { label: 'sad' }], // folder names compare ignoring case
    ],
    [
      ['Happy/SM1_F1_A01.wav', /emotion letter A \(angry\) disagrees with its folder Happy/],
      ['Angry/SM1_F1_X01.wav', /emotion letter X is not one of A H N S/],
      ['Angry/SX1_F1_A01.wav', /does not match URDU's/],
      ['Angry/SM1_A01.wav', /does not match/],
      ['Angry/sm1_f1_a01.wav', /does not match/],
      ['Angry/SM_F1_A01.wav', /does not match/],
    ],
  );
});

test("Korean emotiontts names: the file number's hundred is the emotion", () => {
  assert.deepEqual(parseKoreanEmotionTtsName('plain-to-emotional/ema/wav/ema00001.opus'), { ok: true, label: 'neutral', speaker: 'ema' });
  checkNames(
    parseKoreanEmotionTtsName,
    [
      ['nea00100.wav', { label: 'neutral', speaker: 'nea', sex: undefined }],
      ['nea00101.wav', { label: 'happy' }],
      ['emb00200.wav', { label: 'happy' }],
      ['emb00201.wav', { label: 'angry' }],
      ['nek00301.wav', { label: 'sad' }],
      ['nek00400.wav', { label: 'sad' }],
    ],
    [
      ['ema00000.wav', /file number 00000 is outside 00001-00400/],
      ['ema00401.wav', /file number 00401 is outside/],
      ['ema0001.wav', /does not match Korean emotiontts's/],
      ['EMA00001.wav', /does not match/],
      ['ema_00001.wav', /does not match/],
      ['00001.wav', /does not match/],
    ],
  );
});

test('folders: the first folder is the label as written, the speaker is empty; a file at the root is rejected', () => {
  checkNames(
    parseLabelFolder,
    [
      ['angry/a.wav', { label: 'angry', speaker: '' }],
      ['Happy Voices/day 2/take-1.flac', { label: 'Happy Voices' }],
      ['sad/1001_DFA_ANG_XX.wav', { label: 'sad' }], // a corpus's own naming is not read
    ],
    [['a.wav', /directly in the corpus folder; the folders format reads ROOT\/<label>\/<file>/]],
  );
});
