import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CREMA_D_LABELS,
  EMOTION_SYNONYMS,
  EMOVO_LABELS,
  KOREAN_EMOTIONTTS_LABELS,
  NEMO_LABELS,
  RAVDESS_LABELS,
  URDU_LABELS,
  canonicalEmotion,
  mappingOnto,
  parseLabelSpec,
} from '../../src/data/index.js';

const ravdess = [...RAVDESS_LABELS];

test('plain names keep only those classes, in the spec order', () => {
  const m = parseLabelSpec('sad, angry,happy', ravdess);
  assert.deepEqual(m.labels, ['sad', 'angry', 'happy']);
  assert.equal(m.map.get('angry'), 'angry');
  assert.equal(m.map.has('calm'), false);
});

test('only renames: every other class kept, native order, merged targets appear once', () => {
  const m = parseLabelSpec('calm=neutral,fearful=fear', ravdess);
  assert.deepEqual(m.labels, ['neutral', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprised']);
  assert.equal(m.map.get('calm'), 'neutral');
  assert.equal(m.map.get('neutral'), 'neutral');
  assert.equal(m.map.get('fearful'), 'fear');
});

test('renames mixed with names keep only what is listed', () => {
  const m = parseLabelSpec('angry,fearful=fear,sad', ravdess);
  assert.deepEqual(m.labels, ['angry', 'fear', 'sad']);
  assert.equal(m.map.size, 3);
});

test("preset crema-d maps RAVDESS onto CREMA-D's six (fearful -> fear; calm, surprised dropped)", () => {
  const m = parseLabelSpec('crema-d', ravdess);
  assert.deepEqual(m.labels, [...CREMA_D_LABELS]);
  assert.equal(m.map.get('fearful'), 'fear');
  assert.equal(m.map.has('calm'), false);
  assert.equal(m.map.has('surprised'), false);
  assert.deepEqual(parseLabelSpec('all', ravdess).labels, ravdess);
});

test('unknown names are EDATA listing the valid names; bad syntax is EARG', () => {
  assert.throws(() => parseLabelSpec('angry,fear', ravdess), {
    code: 'EDATA',
    message: /unknown label fear; valid names: neutral, calm, happy/,
  });
  assert.throws(() => parseLabelSpec('angry,,sad', ravdess), { code: 'EARG', message: /empty item/ });
  assert.throws(() => parseLabelSpec('calm=', ravdess), { code: 'EARG', message: /from=to/ });
  assert.throws(() => parseLabelSpec('a=b=c', ravdess), { code: 'EARG' });
  assert.throws(() => parseLabelSpec('angry', ravdess), { code: 'EARG', message: /at least 2/ });
  assert.throws(() => parseLabelSpec('calm=neutral,calm=sad', ravdess), { code: 'EARG', message: /both 'neutral' and 'sad'/ });
});

test('mappingOnto: RAVDESS onto a CREMA-D model, and back', () => {
  const onto = mappingOnto(ravdess, CREMA_D_LABELS);
  assert.deepEqual(onto.unmapped, ['calm', 'surprised']);
  assert.equal(onto.mapping.map.get('fearful'), 'fear');
  assert.deepEqual(onto.mapping.labels, [...CREMA_D_LABELS]);
  const back = mappingOnto(CREMA_D_LABELS, ravdess);
  assert.deepEqual(back.unmapped, []);
  assert.equal(back.mapping.map.get('fear'), 'fearful');
});

test('canonicalEmotion: synonyms of every corpus, any case, unknown names undefined', () => {
  const table: Array<[string, string | undefined]> = [
    ['anger', 'angry'],
    ['ANG', 'angry'],
    [' Angry ', 'angry'],
    ['disgusted', 'disgust'],
    ['DIS', 'disgust'],
    ['fearful', 'fear'],
    ['Scared', 'fear'],
    ['afraid', 'fear'],
    ['FEA', 'fear'],
    ['happiness', 'happy'],
    ['joy', 'happy'],
    ['HAP', 'happy'],
    ['NEU', 'neutral'],
    ['sadness', 'sad'],
    ['surprise', 'surprised'],
    ['ps', 'surprised'],
    ['sur', 'surprised'],
    ['calm', 'calm'],
    ['boredom', undefined],
    ['', undefined],
    ['angry-ish', undefined],
  ];
  for (const [name, canonical] of table) assert.equal(canonicalEmotion(name), canonical, `'${name}'`);
  // Every synonym is written in lower case and belongs to one canonical name only.
  const synonyms = Object.values(EMOTION_SYNONYMS).flat();
  assert.equal(new Set(synonyms).size, synonyms.length);
  for (const synonym of synonyms) assert.equal(synonym, synonym.toLowerCase());
  for (const canonical of Object.keys(EMOTION_SYNONYMS)) assert.equal(canonicalEmotion(canonical), canonical);
});

test("every corpus's native labels have a canonical name", () => {
  for (const labels of [CREMA_D_LABELS, RAVDESS_LABELS, NEMO_LABELS, EMOVO_LABELS, URDU_LABELS, KOREAN_EMOTIONTTS_LABELS]) {
    for (const label of labels) assert.notEqual(canonicalEmotion(label), undefined, label);
  }
});

test('mappingOnto: same name first, then ignoring case, then the same canonical emotion; the rest unmapped', () => {
  const table: Array<[string[], string[], Array<[string, string]>, string[]]> = [
    // available, target, pairs (in target order), unmapped
    [
      [...NEMO_LABELS],
      [...CREMA_D_LABELS],
      [
        ['anger', 'angry'],
        ['fear', 'fear'],
        ['happiness', 'happy'],
        ['neutral', 'neutral'],
        ['sadness', 'sad'],
      ],
      ['surprised'],
    ],
    [
      ['Angry', 'HAPPY', 'Sad'],
      ['sad', 'happy', 'angry'],
      [
        ['Sad', 'sad'],
        ['HAPPY', 'happy'],
        ['Angry', 'angry'],
      ],
      [],
    ],
    [
      ['joy', 'JOY', 'boredom'],
      ['happy', 'joy'],
      [
        ['joy', 'joy'],
        ['JOY', 'joy'],
      ],
      ['boredom'],
    ],
    [['calm', 'neutral'], ['neutral', 'sad'], [['neutral', 'neutral']], ['calm']],
    [
      ['surprise', 'ps'],
      [...RAVDESS_LABELS],
      [
        ['surprise', 'surprised'],
        ['ps', 'surprised'],
      ],
      [],
    ],
    [['angry'], ['anger', 'angry'], [['angry', 'angry']], []],
  ];
  for (const [available, target, pairs, unmapped] of table) {
    const result = mappingOnto(available, target);
    assert.deepEqual(result.pairs, pairs, available.join(','));
    assert.deepEqual(result.unmapped, unmapped, available.join(','));
    assert.deepEqual(result.mapping.labels, target);
  }
});

test("preset six (= crema-d) keeps the classes a corpus has, under the canonical names, in the six's order", () => {
  const table: Array<[readonly string[], string[]]> = [
    [NEMO_LABELS, ['angry', 'fear', 'happy', 'neutral', 'sad']],
    [EMOVO_LABELS, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']],
    [URDU_LABELS, ['angry', 'happy', 'neutral', 'sad']],
    [KOREAN_EMOTIONTTS_LABELS, ['angry', 'happy', 'neutral', 'sad']],
    [RAVDESS_LABELS, [...CREMA_D_LABELS]],
    [
      ['Sad', 'Happy', 'boredom'],
      ['happy', 'sad'],
    ],
  ];
  for (const [available, labels] of table) {
    assert.deepEqual(parseLabelSpec('six', available).labels, labels, available.join(','));
    assert.deepEqual(parseLabelSpec('crema-d', available).labels, labels, available.join(','));
  }
  const nemo = parseLabelSpec('six', NEMO_LABELS);
  assert.equal(nemo.map.get('happiness'), 'happy');
  assert.equal(nemo.map.has('surprised'), false);
  assert.throws(() => parseLabelSpec('six', ['calm', 'happy', 'surprised']), {
    code: 'EARG',
    message: /'six' keeps 1 class; .*at least 2/,
  });
  assert.throws(() => parseLabelSpec('seven', URDU_LABELS), {
    code: 'EDATA',
    message: /unknown label seven; .*presets: all, six \(= crema-d\)/,
  });
});
