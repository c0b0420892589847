import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, formatReport } from '../../src/eval/index.js';

// Same case as metrics.test.ts: accuracy 6/10, macro F1 38/63 = 60.32%, UAR 11/18 = 61.11%, weighted P 37/60 = 61.67%.
const report = evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], ['neutral', 'happy', 'sad']);
const ESC = '\x1b';

describe('formatReport', () => {
  const text = formatReport(report);
  const lines = text.split('\n');

  it('shows the overall numbers', () => {
    assert.match(text, /^Evaluation: 10 samples, 3 classes/);
    assert.match(text, /accuracy\s+60\.00%/);
    assert.match(text, /UAR\)\s+61\.11%/);
    assert.match(text, /macro F1\s+60\.32%/);
    assert.match(text, /weighted avg\s+61\.67%\s+60\.00%\s+60\.00%\s+10/);
  });

  it('per-class rows: precision, recall, F1, support, predicted, misclassified', () => {
    // neutral: P 2/3, R 2/4, F1 4/7 = 57.14%, support 4, predicted 3, misclassified 50%
    assert.match(text, /neutral\s+66\.67%\s+50\.00%\s+57\.14%\s+4\s+3\s+50\.00%/);
    assert.match(text, /happy\s+50\.00%\s+66\.67%\s+57\.14%\s+3\s+4\s+33\.33%/);
    const rows = lines.filter((l) => /^ {2}(neutral|happy|sad) +\d+\.\d\d%/.test(l));
    assert.equal(rows.length, 3);
    assert.equal(new Set(rows.map((l) => l.length)).size, 1, 'per-class rows are aligned to one width');
  });

  it('intervals beside accuracy and UAR; no AUC, calibration or AUC column without probabilities', () => {
    // Wilson interval of 6 of 10: 31.27%-83.18% (scipy binomtest(6, 10).proportion_ci(method='wilson'))
    assert.match(text, /accuracy\s+60\.00%\s+95% CI 31\.3-83\.2%/);
    assert.doesNotMatch(text, /ROC AUC|calibration/);
  });

  it('with probabilities: ROC AUC, calibration error and a per-class ROC AUC column', () => {
    // each sample's predicted class at 0.6, the others 0.2: confidence 0.6 = accuracy, ECE 0
    const predicted = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];
    const probabilities = predicted.map((p) => [0, 1, 2].map((c) => (c === p ? 0.6 : 0.2)));
    const withProbabilities = formatReport(evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], null, ['neutral', 'happy', 'sad'], { probabilities }));
    assert.match(withProbabilities, /ROC AUC \(macro, one-vs-rest\)\s+0\.\d{4}/);
    assert.match(withProbabilities, /expected calibration error \(15 bins\)\s+0\.0000\s+mean confidence 60\.00%/);
    assert.match(withProbabilities, /misclassified\s+ROC AUC/);
    assert.match(withProbabilities, /macro avg(\s+\S+){4}\s+0\.\d{3}$/m);
  });

  it('per speaker: the range, a row per speaker; beyond 24 speakers the least accurate 24', () => {
    const two = formatReport(evaluate([0, 1, 0, 1], [0, 1, 1, 1], ['x', 'y'], { speakers: ['s2', 's2', 's1', 's1'] }));
    assert.match(two, /Per speaker \(2\): accuracy 50\.00% to 100\.00%, median 75\.00%/);
    assert.match(two, /s1\s+2\s+50\.00%\s+\S+%\s+50\.00%/);
    // 30 speakers of 2 samples each; speaker k gets both right when k >= 10, else one of two
    const truth = Array.from({ length: 60 }, (_, i) => i % 2);
    const predicted = truth.map((y, i) => (Math.floor(i / 2) < 10 && y === 1 ? 0 : y));
    const speakers = truth.map((_, i) => `s${Math.floor(i / 2)}`);
    const many = formatReport(evaluate(truth, predicted, ['x', 'y'], { speakers }));
    assert.match(many, /the 24 least accurate of 30 speakers/);
    for (let k = 0; k < 10; k++) assert.match(many, new RegExp(`\\bs${k}\\s+2\\s+50\\.00%`));
  });

  it('confusion matrix with labels, rows = true class', () => {
    const header = lines.findIndex((l) => l.includes('true \\ predicted'));
    assert.ok(header > 0);
    assert.match(lines[header]!, /true \\ predicted\s+neutral\s+happy\s+sad$/);
    assert.match(lines[header + 1]!, /^ {2}neutral\s+2\s+1\s+1$/);
    assert.match(lines[header + 2]!, /^ {2}happy\s+1\s+2\s+0$/);
    assert.match(lines[header + 3]!, /^ {2}sad\s+0\s+1\s+2$/);
    const columnEnds = lines.slice(header, header + 4).map((l) => l.length);
    assert.equal(new Set(columnEnds).size, 1, 'confusion rows are aligned');
  });

  it('most confused pairs with rates', () => {
    assert.match(text, /happy -> neutral\s+1\s+33\.33%\s+of happy samples/);
    assert.match(text, /neutral -> happy\s+1\s+25\.00%\s+of neutral samples/);
  });

  it('no colour codes unless asked', () => {
    assert.ok(!text.includes(ESC));
    const coloured = formatReport(report, { color: true });
    assert.ok(coloured.includes(`${ESC}[1m`));
    assert.equal(coloured.replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), ''), text, 'colour only wraps the same text');
  });

  it('cross-entropy line only with probabilities; perfect predictions say so', () => {
    assert.ok(!text.includes('cross-entropy'));
    const r = evaluate([0, 1], null, ['a', 'b'], { probabilities: [0.9, 0.1, 0.2, 0.8] });
    // CE = -(ln 0.9 + ln 0.8) / 2 = (0.1053605 + 0.2231436) / 2 = 0.1642520
    assert.match(formatReport(r), /mean cross-entropy \(nats\)\s+0\.1643/);
    assert.match(formatReport(r), /none: every sample was predicted correctly/);
  });
});
