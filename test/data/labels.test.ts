import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREMA_D_LABELS, RAVDESS_LABELS, mappingOnto, parseLabelSpec } from '../../src/data/index.js';

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
