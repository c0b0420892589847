/**
 * Metrics against values computed by hand (the arithmetic is in the comments). Tolerance 1e-12: every value
 * is a ratio of small integers, so float64 results differ from the exact fractions by a few ulps at most.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerError } from '../../src/errors.js';
import { confusionMatrix, evaluate, fromJson, rowNormalize, toJson } from '../../src/eval/index.js';

const TOL = 1e-12;
function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= TOL, `${what}: got ${actual}, expected ${expected}`);
}

describe('evaluate: three classes, every class present', () => {
  // true:  a a a a b b b c c c      supports a 4, b 3, c 3, N = 10
  // pred:  a a b c b b a c c b
  // confusion (rows true, cols predicted):
  //   a: [2, 1, 1]
  //   b: [1, 2, 0]
  //   c: [0, 1, 2]
  // column sums (predicted): a 3, b 4, c 3; diagonal 2, 2, 2.
  const report = evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], Int32Array.from([0, 0, 1, 2, 1, 1, 0, 2, 2, 1]), ['a', 'b', 'c']);

  it('confusion matrix rows = true class, rows sum to support', () => {
    assert.deepEqual(report.confusion, [
      [2, 1, 1],
      [1, 2, 0],
      [0, 1, 2],
    ]);
    assert.deepEqual(
      report.confusion.map((row) => row.reduce((x, y) => x + y, 0)),
      report.perClass.map((c) => c.support),
    );
    assert.deepEqual(
      report.perClass.map((c) => [c.support, c.predicted]),
      [
        [4, 3],
        [3, 4],
        [3, 3],
      ],
    );
  });

  it('accuracy = trace / N = 6/10', () => close(report.accuracy, 0.6, 'accuracy'));

  it('per-class precision, recall, F1', () => {
    // precision = diag / column sum: a 2/3, b 2/4, c 2/3
    // recall    = diag / row sum:    a 2/4, b 2/3, c 2/3
    // F1 = 2·diag / (column + row):  a 4/7, b 4/7, c 4/6
    const [a, b, c] = report.perClass;
    close(a!.precision, 2 / 3, 'P(a)');
    close(b!.precision, 1 / 2, 'P(b)');
    close(c!.precision, 2 / 3, 'P(c)');
    close(a!.recall, 1 / 2, 'R(a)');
    close(b!.recall, 2 / 3, 'R(b)');
    close(c!.recall, 2 / 3, 'R(c)');
    close(a!.f1, 4 / 7, 'F1(a)');
    close(b!.f1, 4 / 7, 'F1(b)');
    close(c!.f1, 2 / 3, 'F1(c)');
  });

  it('macro averages', () => {
    // macro P  = (2/3 + 1/2 + 2/3) / 3 = (11/6) / 3 = 11/18
    // macro R  = (1/2 + 2/3 + 2/3) / 3 = 11/18
    // macro F1 = (4/7 + 4/7 + 2/3) / 3 = (24/21 + 14/21) / 3 = 38/63
    close(report.macro.precision, 11 / 18, 'macro P');
    close(report.macro.recall, 11 / 18, 'macro R');
    close(report.macro.f1, 38 / 63, 'macro F1');
    // UAR = mean recall over classes with support = macro recall here
    close(report.uar, 11 / 18, 'UAR');
    assert.deepEqual(report.macroAveragedOver, ['a', 'b', 'c']);
  });

  it('weighted averages', () => {
    // weighted P  = (4·2/3 + 3·1/2 + 3·2/3) / 10 = (16/6 + 9/6 + 12/6) / 10 = 37/60
    // weighted R  = (4·1/2 + 3·2/3 + 3·2/3) / 10 = 6/10 (always equals accuracy)
    // weighted F1 = (4·4/7 + 3·4/7 + 3·2/3) / 10 = (4 + 2) / 10 = 6/10
    close(report.weighted.precision, 37 / 60, 'weighted P');
    close(report.weighted.recall, 0.6, 'weighted R');
    close(report.weighted.f1, 0.6, 'weighted F1');
  });

  it('misclassification rate = 1 - recall (paper Table I)', () => {
    // a: 2 of 4 elsewhere = 1/2; b: 1 of 3 = 1/3; c: 1 of 3 = 1/3
    close(report.perClass[0]!.misclassificationRate, 1 / 2, 'a');
    close(report.perClass[1]!.misclassificationRate, 1 / 3, 'b');
    close(report.perClass[2]!.misclassificationRate, 1 / 3, 'c');
  });

  it('most confused pairs: count, then rate, then index order', () => {
    // off-diagonal cells, all count 1: a->b 1/4, a->c 1/4, b->a 1/3, c->b 1/3
    assert.deepEqual(
      report.mostConfused.map((p) => `${p.trueLabel}->${p.predictedLabel}`),
      ['b->a', 'c->b', 'a->b', 'a->c'],
    );
    close(report.mostConfused[0]!.rate, 1 / 3, 'b->a rate');
    assert.equal(
      evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], ['a', 'b', 'c'], { topConfused: 2 }).mostConfused.length,
      2,
    );
  });

  it('no cross-entropy without probabilities', () => assert.equal(report.crossEntropy, null));
});

describe('evaluate: edge cases (sklearn zero_division=0)', () => {
  it('a class never predicted has precision 0, recall 0, F1 0', () => {
    // true [a b c c], pred [a b b b]: confusion a [1,0,0], b [0,1,0], c [0,2,0]
    // predicted: a 1, b 3, c 0 -> P(c) = 0/0 -> 0; R(c) = 0/2 = 0; F1(c) = 0/(0+2) = 0
    // P: a 1, b 1/3; R: a 1, b 1; F1: a 2/2 = 1, b 2/(3+1) = 1/2
    // macro F1 = (1 + 1/2 + 0) / 3 = 1/2; accuracy 2/4
    const r = evaluate([0, 1, 2, 2], [0, 1, 1, 1], ['a', 'b', 'c']);
    const c = r.perClass[2]!;
    assert.deepEqual([c.precision, c.recall, c.f1, c.predicted], [0, 0, 0, 0]);
    close(r.perClass[1]!.precision, 1 / 3, 'P(b)');
    close(r.perClass[1]!.f1, 1 / 2, 'F1(b)');
    close(r.macro.f1, 1 / 2, 'macro F1');
    close(r.accuracy, 1 / 2, 'accuracy');
    close(c.misclassificationRate, 1, 'c misclassified');
  });

  it('a class absent from the truth but predicted: recall 0 in macro recall, left out of UAR', () => {
    // true [a a b b], pred [a c b b]: confusion a [1,0,1], b [0,2,0], c [0,0,0]
    // P: a 1/1, b 2/2, c 0/1 = 0; R: a 1/2, b 2/2, c 0/0 -> 0; F1: a 2/(1+2) = 2/3, b 1, c 0/(1+0) = 0
    // macro over a, b, c (c occurs in the predictions): P = 2/3, R = 1/2, F1 = (2/3 + 1) / 3 = 5/9
    // UAR over classes with support (a, b) = (1/2 + 1) / 2 = 3/4 (sklearn balanced_accuracy_score)
    const r = evaluate([0, 0, 1, 1], [0, 2, 1, 1], ['a', 'b', 'c']);
    close(r.macro.precision, 2 / 3, 'macro P');
    close(r.macro.recall, 1 / 2, 'macro R');
    close(r.macro.f1, 5 / 9, 'macro F1');
    close(r.uar, 3 / 4, 'UAR');
    assert.equal(r.perClass[2]!.misclassificationRate, null);
    assert.equal(r.perClass[2]!.support, 0);
    // weighted: support of c is 0, so it weighs nothing: (2·1 + 2·1) / 4 = 1 for P, (2·1/2 + 2·1)/4 = 3/4 for R
    close(r.weighted.precision, 1, 'weighted P');
    close(r.weighted.recall, 3 / 4, 'weighted R');
  });

  it('a class absent from truth and predictions: skipped by macroOver present, zero under all', () => {
    // true [a b], pred [a b], labels a b c: c has no samples at all.
    // present: macro F1 = (1 + 1) / 2 = 1; all: (1 + 1 + 0) / 3 = 2/3
    const present = evaluate([0, 1], [0, 1], ['a', 'b', 'c']);
    const all = evaluate([0, 1], [0, 1], ['a', 'b', 'c'], { macroOver: 'all' });
    close(present.macro.f1, 1, 'present');
    close(all.macro.f1, 2 / 3, 'all');
    assert.deepEqual(present.macroAveragedOver, ['a', 'b']);
    assert.deepEqual(all.macroAveragedOver, ['a', 'b', 'c']);
    close(present.uar, 1, 'UAR');
    close(all.uar, 1, 'UAR does not depend on macroOver');
  });

  it('perfect and all-wrong predictions', () => {
    const perfect = evaluate([0, 1, 1], [0, 1, 1], ['x', 'y']);
    assert.deepEqual([perfect.accuracy, perfect.macro.f1, perfect.uar, perfect.mostConfused.length], [1, 1, 1, 0]);
    const wrong = evaluate([0, 1, 1], [1, 0, 0], ['x', 'y']);
    assert.deepEqual([wrong.accuracy, wrong.macro.f1, wrong.uar], [0, 0, 0]);
  });
});

/** Ten rows of probabilities for the ROC AUC and calibration cases (true classes 0 0 1 2 1 0 2 2 1 0). */
const TEN_ROWS = [
  [0.5, 0.25, 0.25],
  [0.5, 0.5, 0],
  [0.25, 0.5, 0.25],
  [0.25, 0.25, 0.5],
  [0.5, 0.25, 0.25],
  [0.75, 0.125, 0.125],
  [0.25, 0.5, 0.25],
  [0.125, 0.125, 0.75],
  [0.25, 0.5, 0.25],
  [0.25, 0.25, 0.5],
];

describe('evaluate: probabilities', () => {
  it('mean cross-entropy and arg-max predictions', () => {
    // true [0, 0]; p = [[0.8, 0.2], [0.4, 0.6]]
    // CE = -(ln 0.8 + ln 0.4) / 2 = (0.2231435513142 + 0.9162907318742) / 2 = 0.5697171415942
    // arg-max predictions [0, 1] -> accuracy 1/2
    const r = evaluate([0, 0], null, ['x', 'y'], {
      probabilities: [
        [0.8, 0.2],
        [0.4, 0.6],
      ],
    });
    close(r.crossEntropy, (0.2231435513142098 + 0.916290731874155) / 2, 'CE');
    close(r.accuracy, 0.5, 'accuracy');
    assert.deepEqual(r.confusion, [
      [1, 1],
      [0, 0],
    ]);
  });

  it('flat row-major probabilities; ties go to the lowest index; zero probability is clipped at 1e-15', () => {
    // sample 0: [0.5, 0.5] true 1 -> predicted 0 (tie), CE term -ln 0.5 = 0.69314718056
    // sample 1: [1, 0] true 1 -> CE term -ln(1e-15) = 34.538776394910684
    const r = evaluate([1, 1], null, ['x', 'y'], { probabilities: Float32Array.from([0.5, 0.5, 1, 0]) });
    assert.deepEqual(r.confusion, [
      [0, 0],
      [2, 0],
    ]);
    close(r.crossEntropy, (Math.LN2 + 34.538776394910684) / 2, 'CE');
  });

  it('one-vs-rest ROC AUC per class and macro, ties counting 1/2, as sklearn', () => {
    // Golden values: sklearn 1.2.1, roc_auc_score(y, P, multi_class='ovr', average='macro') = 0.8015873015873017
    // and roc_auc_score(y == c, P[:, c]) per class = 0.8333333333333334, 0.7380952380952381, 0.8333333333333333.
    // By hand for class 0: positives score .5 .5 .75 .25, negatives .25 .25 .5 .25 .125 .25: of the 24 pairs the
    // positive wins 5 + 5 + 6 + 1 and ties 0.5 + 0.5 + 0 + 2 (x 1/2) -> 20 / 24.
    const r = evaluate([0, 0, 1, 2, 1, 0, 2, 2, 1, 0], null, ['a', 'b', 'c'], { probabilities: TEN_ROWS });
    close(r.rocAuc, 0.8015873015873017, 'macro AUC');
    for (const [c, auc] of [0.8333333333333334, 0.7380952380952381, 0.8333333333333333].entries())
      close(r.perClass[c]!.rocAuc, auc, `AUC ${c}`);
  });

  it('expected calibration error over 15 bins, as Guo et al.’s reference code', () => {
    // Golden: the reference code of Guo et al. 2017 (gpleiss/temperature_scaling _ECELoss, bins (k/15, (k+1)/15])
    // in numpy on the ten rows of the ROC AUC case: ECE 0.15. By hand: confidences 0.5 (8 samples, 5 right:
    // |0.625 - 0.5| x 8/10 = 0.1) and 0.75 (2 samples, both right: |1 - 0.75| x 2/10 = 0.05); mean confidence 0.55.
    const r = evaluate([0, 0, 1, 2, 1, 0, 2, 2, 1, 0], null, ['a', 'b', 'c'], { probabilities: TEN_ROWS });
    close(r.calibration?.ece ?? null, 0.15, 'ECE');
    close(r.calibration?.meanConfidence ?? null, 0.55, 'mean confidence');
    assert.deepEqual(
      r.calibration?.bins.map((b) => [b.count, b.confidence, b.accuracy]),
      [
        [8, 0.5, 0.625],
        [2, 0.75, 1],
      ],
    );
    close(r.calibration!.bins[0]!.lower, 7 / 15, 'bin edge');
    assert.equal(evaluate([0, 1], [0, 1], ['x', 'y']).calibration, null, 'no probabilities, no calibration');
    // Predictions given apart from the probabilities do not enter it: confidences 0.9 and 0.8, both arg-maxes right
    // -> ECE = (0.1 + 0.2) / 2, although the given predictions get sample 0 wrong.
    const given = evaluate([0, 1], [1, 1], ['x', 'y'], {
      probabilities: [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
    });
    close(given.calibration?.ece ?? null, 0.15, 'ECE of the arg-max');
  });

  it('ROC AUC is null for a class absent from the truth and without probabilities; the macro skips it', () => {
    const r = evaluate([0, 1, 0], null, ['x', 'y', 'z'], {
      probabilities: [
        [0.6, 0.3, 0.1],
        [0.2, 0.7, 0.1],
        [0.3, 0.3, 0.4],
      ],
    });
    assert.deepEqual(
      r.perClass.map((c) => c.rocAuc),
      [1, 1, null],
    );
    assert.equal(r.rocAuc, 1);
    const withoutProbabilities = evaluate([0, 1], [0, 1], ['x', 'y']);
    assert.equal(withoutProbabilities.rocAuc, null);
    assert.equal(withoutProbabilities.perClass[0]!.rocAuc, null);
  });

  it('rejects logits passed as probabilities, naming the rows', () => {
    assert.throws(
      () => evaluate([0, 1], null, ['x', 'y'], { probabilities: [2.5, -1, 0.3, 0.7] }),
      (e: unknown) => e instanceof SerError && e.code === 'EARG' && /row 0 sums to 1.5/.test(e.message) && /softmax/.test(e.message),
    );
  });
});

describe('evaluate: per speaker', () => {
  // speaker 'a10': true 0 0 1, predicted 0 1 1 -> accuracy 2/3, UAR (1/2 + 1) / 2 = 3/4
  // speaker 'a9':  true 1 1,   predicted 1 0   -> accuracy 1/2, UAR 1/2 (class 1 only)
  // one sample of an unknown speaker ('') is left out of the breakdown, not of the totals
  const r = evaluate([0, 1, 0, 1, 1, 1], [0, 1, 1, 0, 1, 0], ['x', 'y'], { speakers: ['a10', 'a9', 'a10', 'a9', 'a10', ''] });

  it('accuracy and UAR per speaker, ids in natural order (a9 before a10)', () => {
    assert.deepEqual(
      r.perSpeaker.map((p) => [p.speaker, p.samples]),
      [
        ['a9', 2],
        ['a10', 3],
      ],
    );
    close(r.perSpeaker[0]!.accuracy, 1 / 2, 'a9 accuracy');
    close(r.perSpeaker[0]!.uar, 1 / 2, 'a9 UAR');
    close(r.perSpeaker[1]!.accuracy, 2 / 3, 'a10 accuracy');
    close(r.perSpeaker[1]!.uar, 3 / 4, 'a10 UAR');
    assert.equal(r.samples, 6);
  });

  it('empty with fewer than two known speakers or without speakers; a length mismatch is an error', () => {
    assert.deepEqual(evaluate([0, 1], [0, 1], ['x', 'y'], { speakers: ['s', 's'] }).perSpeaker, []);
    assert.deepEqual(evaluate([0, 1], [0, 1], ['x', 'y']).perSpeaker, []);
    assert.throws(() => evaluate([0, 1], [0, 1], ['x', 'y'], { speakers: ['s'] }), /speakers has 1 entries but there are 2 samples/);
  });

  it('round-trips through the JSON form as per_speaker', () => {
    const json = JSON.parse(JSON.stringify(toJson(r))) as Record<string, unknown>;
    assert.equal((json.per_speaker as unknown[]).length, 2);
    assert.deepEqual(fromJson(json), r);
  });
});

describe('evaluate: invalid input', () => {
  it('lists every out-of-range index', () => {
    assert.throws(
      () => evaluate([0, 5, -1], [0, 0, 0], ['a', 'b', 'c']),
      (e: unknown) =>
        e instanceof SerError && e.code === 'EARG' && e.message.includes('trueLabels[1] = 5') && e.message.includes('trueLabels[2] = -1'),
    );
  });
  it('length mismatch, empty input, nothing to predict from', () => {
    assert.throws(() => evaluate([0, 1], [0], ['a', 'b']), /2 samples but predicted has 1/);
    assert.throws(() => evaluate([], [], ['a']), /no samples/);
    assert.throws(() => evaluate([0], null, ['a']), /no probabilities/);
    assert.throws(() => evaluate([0], [0], []), /labels is empty/);
  });
});

describe('JSON form', () => {
  const report = evaluate([0, 0, 1, 1], [0, 2, 1, 1], ['neutral', 'happy', 'sad'], {
    probabilities: [
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
      [0.2, 0.6, 0.2],
      [0, 1, 0],
    ],
  });
  const json = JSON.parse(JSON.stringify(toJson(report))) as Record<string, unknown>;

  it('has the snake_case keys independent checks read', () => {
    for (const key of [
      'accuracy',
      'macro_f1',
      'uar',
      'labels',
      'confusion',
      'weighted_f1',
      'macro_precision',
      'macro_recall',
      'per_class',
      'most_confused',
      'cross_entropy',
      'roc_auc',
      'ece',
      'mean_confidence',
      'reliability',
    ]) {
      assert.ok(key in json, `missing ${key}`);
    }
    assert.deepEqual(json.labels, ['neutral', 'happy', 'sad']);
    assert.deepEqual(json.confusion, [
      [1, 0, 1],
      [0, 2, 0],
      [0, 0, 0],
    ]);
    assert.equal(json.accuracy, 0.75);
    const perClass = json.per_class as Array<Record<string, unknown>>;
    assert.equal(perClass[2]!.misclassification_rate, null);
    assert.ok('misclassification_rate' in perClass[0]!);
  });

  it('round-trips through fromJson', () => {
    assert.deepEqual(fromJson(json), report);
    assert.throws(() => fromJson({ accuracy: 'x' }, 'metrics.json'), /metrics.json: not an evaluation report: accuracy is not a number/);
  });
});

describe('helpers', () => {
  it('confusionMatrix and rowNormalize', () => {
    const m = confusionMatrix([0, 0, 1], [0, 1, 1], 3);
    assert.deepEqual(m, [
      [1, 1, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    assert.deepEqual(rowNormalize(m), [
      [0.5, 0.5, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });
});
