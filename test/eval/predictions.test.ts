/**
 * predictions.csv (src/eval/predictions.ts): hand-built rows (quoting, the arg max of unrounded probabilities),
 * reading it back, pairing two files, and McNemar's exact p against scipy 1.10.1
 * (`scipy.stats.binomtest(b, b + c, 0.5).pvalue`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from '../../src/data/csv.js';
import { SerError } from '../../src/errors.js';
import { mcNemarExactP, pairedComparison, parsePredictionsCsv, predictionsCsv } from '../../src/eval/predictions.js';

const LABELS = ['angry', 'sad'];
const RECORDINGS = [
  { id: 'ravdess/Actor_13/a.wav', path: '/data/ravdess/Actor_13/a.wav', speaker: 'ravdess/13' },
  { id: 'b, "quoted".wav', path: '/data/b, "quoted".wav', speaker: '' },
  { id: 'c.wav', path: '/data/c.wav', speaker: 's2' },
];

describe('predictionsCsv', () => {
  it('writes one row per recording: true and predicted class, correct, probabilities to six decimals, quoted where needed', () => {
    // The third row's probabilities round alike (0.500000) but the arg max of the unrounded ones is sad.
    const text = predictionsCsv(RECORDINGS, [0, 1, 1], [0.9, 0.1, 0.7, 0.3, 0.4999999, 0.5000001], LABELS);
    const lines = text.split('\n');
    assert.equal(lines[0], 'id,path,speaker,true,predicted,correct,p_angry,p_sad');
    assert.equal(lines[1], 'ravdess/Actor_13/a.wav,/data/ravdess/Actor_13/a.wav,ravdess/13,angry,angry,1,0.900000,0.100000');
    assert.equal(lines[2], '"b, ""quoted"".wav","/data/b, ""quoted"".wav",,sad,angry,0,0.700000,0.300000');
    assert.equal(lines[3], 'c.wav,/data/c.wav,s2,sad,sad,1,0.500000,0.500000');
    assert.equal(lines[4], '');
    assert.deepEqual(parseCsv(text)[2]!.slice(0, 2), ['b, "quoted".wav', '/data/b, "quoted".wav']);
  });
  it('refuses counts that do not match', () => {
    assert.throws(() => predictionsCsv(RECORDINGS, [0, 1], [0.9, 0.1, 0.7, 0.3, 0.5, 0.5], LABELS), /3 recordings, 2 true classes/);
    assert.throws(() => predictionsCsv(RECORDINGS, [0, 1, 1], [0.9, 0.1], LABELS), /expected 3 x 2/);
  });
});

describe('parsePredictionsCsv and pairedComparison', () => {
  const first = predictionsCsv(RECORDINGS, [0, 1, 1], [0.9, 0.1, 0.7, 0.3, 0.4, 0.6], LABELS);
  const second = predictionsCsv([...RECORDINGS].reverse(), [1, 1, 0], [0.6, 0.4, 0.2, 0.8, 0.2, 0.8], LABELS);
  it('reads back the id, true and predicted class', () => {
    assert.deepEqual(parsePredictionsCsv(first, 'first.csv'), [
      { id: 'ravdess/Actor_13/a.wav', true: 'angry', predicted: 'angry' },
      { id: 'b, "quoted".wav', true: 'sad', predicted: 'angry' },
      { id: 'c.wav', true: 'sad', predicted: 'sad' },
    ]);
  });
  it('pairs the recordings by id whatever their order', () => {
    // a: right in first, wrong in second; b: wrong, right; c: right, wrong.
    const paired = pairedComparison(parsePredictionsCsv(first, 'first.csv'), parsePredictionsCsv(second, 'second.csv'), ['A', 'B']);
    // UAR: first angry 1/1, sad 1/2 -> 0.75; second angry 0/1, sad 1/2 -> 0.25.
    assert.deepEqual(paired, {
      recordings: 3,
      both: 0,
      onlyFirst: 2,
      onlySecond: 1,
      neither: 0,
      p: 1,
      accuracy: [2 / 3, 1 / 3],
      uar: [0.75, 0.25],
    });
  });
  it('refuses files of other recordings or other true classes, and a file without the columns', () => {
    const rows = parsePredictionsCsv(first, 'first.csv');
    const code = (error: unknown) => error instanceof SerError && error.code === 'EDATA';
    assert.throws(() => pairedComparison(rows, rows.slice(1), ['A', 'B']), code);
    assert.throws(() => pairedComparison(rows, rows.slice(1), ['A', 'B']), /A has 3 recordings, B 2/);
    const renamed = rows.map((row, i) => (i === 2 ? { ...row, id: 'd.wav' } : row));
    assert.throws(() => pairedComparison(rows, renamed, ['A', 'B']), /d\.wav only in B/);
    const relabelled = rows.map((row, i) => (i === 0 ? { ...row, true: 'sad' } : row));
    assert.throws(() => pairedComparison(rows, relabelled, ['A', 'B']), /ravdess\/Actor_13\/a\.wav: true class angry in A, sad in B/);
    assert.throws(() => pairedComparison([...rows, rows[0]!], [...rows, rows[0]!]), /occurs twice/);
    assert.throws(() => parsePredictionsCsv('file,label\na.wav,sad\n', 'x.csv'), /x\.csv: no column id, true, predicted/);
  });
});

describe('mcNemarExactP', () => {
  it('equals scipy binomtest on the discordant pairs, also with thousands of them', () => {
    const cases: Array<[number, number, number]> = [
      [24, 14, 0.14330665429588407],
      [13, 99, 1.501473402256409e-17],
      [27, 78, 6.489717150833549e-7],
      [44, 113, 3.485737054862625e-8],
      [5, 0, 0.0625],
      [1, 1, 1],
      [700, 800, 0.01055925546671162],
      [3000, 3150, 0.05742710853236414],
    ];
    for (const [b, c, expected] of cases) {
      const p = mcNemarExactP(b, c);
      assert.ok(Math.abs(p - expected) <= 1e-9 * expected, `${b} : ${c}: ${p}, scipy ${expected}`);
      assert.equal(mcNemarExactP(c, b), p, `symmetric in ${b}, ${c}`);
    }
    assert.equal(mcNemarExactP(0, 0), 1);
  });
});
