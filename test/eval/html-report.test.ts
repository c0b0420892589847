/** report.html: well-formed, self-contained, states the protocol, carries the numbers, written atomically. */
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import pngjs from 'pngjs';
import { DEFAULT_FRONT_END } from '../../src/features/index.js';
import {
  type EpochRecord,
  type HtmlReportInput,
  evaluate,
  formatDuration,
  renderHtmlReport,
  spectrogramFigureSvg,
  toJson,
  writeHtmlReport,
} from '../../src/eval/index.js';

const LABELS = ['neutral', 'happy', 'sad & tired'];
// accuracy 6/10, macro F1 38/63 = 60.32%, UAR 11/18 = 61.11% (see metrics.test.ts)
const report = evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], LABELS);
const history: EpochRecord[] = [
  { epoch: 1, train_loss: 1.5, train_accuracy: 0.4, val_loss: 1.2, val_accuracy: 0.5, lr: 1e-4, seconds: 12.5 },
  { epoch: 2, train_loss: 1.1, train_accuracy: 0.6, val_loss: 1.0, val_accuracy: 0.6, lr: 1e-4, seconds: 12.1 },
  { epoch: 3, train_loss: 0.9, train_accuracy: 0.7, val_loss: 1.1, val_accuracy: 0.55, lr: 1e-4, seconds: 12.3 },
];
const spectrogram = { data: Float32Array.from({ length: 8 * 6 }, (_, i) => -(i % 7) * 10), nMels: 8, frames: 6 };
const input = (protocol: 'random-stratified' | 'speaker-disjoint'): HtmlReportInput => ({
  run: {
    dataset: 'ravdess <test fixture>',
    protocol,
    seed: 7,
    splitCounts: { train: 70, validation: 10, test: 10 },
    hyperParameters: { lr: 1e-4, batchSize: 16 },
    config: { nMels: 8 },
    epochs: 3,
    wallTimeS: 3725.4,
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  history,
  report,
  spectrograms: [{ title: 'angry example', spectrogram }],
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ser-eval-'));
  dirs.push(d);
  return d;
}

describe('renderHtmlReport', async () => {
  const html = await renderHtmlReport(input('random-stratified'));

  it('is well-formed XML (XHTML polyglot) with inline SVG figures', () => {
    assert.equal(XMLValidator.validate(html), true, JSON.stringify(XMLValidator.validate(html)));
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.equal(html.match(/<svg[\s>]/g)?.length, 3, 'history, confusion, misclassification');
  });

  it('states the protocol and warns that random splits leak speaker and sentence', () => {
    assert.match(html, /Protocol: random stratified split\./);
    assert.match(html, /class="warning"/);
    assert.match(html, /leak speaker and sentence/);
  });

  it('names the speaker-disjoint protocol when used, still mentioning the leak of random splits', async () => {
    const disjoint = await renderHtmlReport(input('speaker-disjoint'));
    assert.match(disjoint, /Protocol: speaker-disjoint split\./);
    assert.match(disjoint, /no speaker appears in two of train, validation and test/);
    assert.match(disjoint, /leak speaker and sentence/);
    assert.ok(!disjoint.includes('class="warning"'));
  });

  it('shows run info, numbers and labels (escaped)', () => {
    for (const s of [
      '60.00%',
      '61.11%',
      '60.32%',
      '70 / 10 / 10 (total 90)',
      '1 h 02 min 05 s',
      'ravdess &lt;test fixture&gt;',
      'sad &amp; tired',
      'batchSize',
    ]) {
      assert.ok(html.includes(s), `missing ${s}`);
    }
    assert.ok(!html.includes('sad & tired'), 'labels are escaped');
    assert.match(html, /best epoch \(weights evaluated\)<\/th><td class="text">2</);
  });

  it('says the kept epoch is the last of a run with no validation part', async () => {
    const base = input('speaker-disjoint');
    const finalFit = await renderHtmlReport({
      ...base,
      run: { ...base.run, splitCounts: { train: 80, validation: 0, test: 10 } },
      history: history.map((h) => ({ ...h, val_loss: null, val_accuracy: null })),
    });
    assert.match(finalFit, /best epoch \(weights evaluated\)<\/th><td class="text">3 \(the last: no validation part\)</);
  });

  it("adds the run's history note to the training-history caption, and nothing without one", async () => {
    const note = "Validation curves are the weight average's.";
    const noted = await renderHtmlReport({ ...input('random-stratified'), run: { ...input('random-stratified').run, historyNote: note } });
    assert.match(noted, /the one whose weights are evaluated\)\. Validation curves are the weight average&#39;s\.<\/figcaption>/);
    assert.match(html, /the one whose weights are evaluated\)\.<\/figcaption>/);
  });

  it('links the predictions file beside the report when the run has one, and nothing without one', async () => {
    const linked = await renderHtmlReport({
      ...input('random-stratified'),
      run: { ...input('random-stratified').run, predictionsFile: 'predictions.csv' },
    });
    assert.match(linked, /prediction and probabilities: <a href="predictions\.csv">predictions\.csv<\/a>/);
    assert.equal(XMLValidator.validate(linked), true);
    assert.ok(!html.includes('predictions.csv'));
  });

  it('is self-contained: no network references, only a JSON data script', () => {
    assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external src/href');
    assert.ok(!/url\(\s*['"]?https?:/.test(html), 'no external CSS url()');
    assert.ok(!/@import/.test(html));
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.deepEqual(scripts, ['<script type="application/json" id="evaluation-report">']);
  });

  it('embeds the JSON form of the metrics', () => {
    const json = html.match(/<script type="application\/json" id="evaluation-report">(.*?)<\/script>/s)?.[1];
    assert.ok(json);
    assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(toJson(report))));
  });

  it('embeds the spectrogram as a PNG data URI', () => {
    const b64 = html.match(/src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/)?.[1];
    assert.ok(b64);
    const png = pngjs.PNG.sync.read(Buffer.from(b64, 'base64'));
    assert.deepEqual([png.width, png.height], [12, 16], '6 frames x 2 px, 8 mels x 2 px');
  });

  it('evaluation-only report (no history) has no history figure', async () => {
    const evalOnly = await renderHtmlReport({ ...input('speaker-disjoint'), history: [], spectrograms: [] });
    assert.equal(XMLValidator.validate(evalOnly), true);
    assert.equal(evalOnly.match(/<svg[\s>]/g)?.length, 2);
    assert.ok(!evalOnly.includes('Training history'));
  });
});

describe('writeHtmlReport', () => {
  it('writes report.html and figures, replacing an existing report atomically (rename, never in place)', async () => {
    const dir = tempDir();
    const htmlPath = join(dir, 'report.html');
    writeFileSync(htmlPath, 'OLD REPORT');
    const oldInode = statSync(htmlPath).ino;
    const reader = openSync(htmlPath, 'r'); // a reader that opened the old report keeps seeing all of it
    try {
      const written = await writeHtmlReport(dir, input('random-stratified'));
      assert.equal(written.html, htmlPath);
      assert.notEqual(statSync(htmlPath).ino, oldInode, 'new file renamed over the old one');
      const buffer = Buffer.alloc(32);
      const n = readSync(reader, buffer, 0, 32, 0);
      assert.equal(buffer.subarray(0, n).toString(), 'OLD REPORT');
    } finally {
      closeSync(reader);
    }
    assert.equal(XMLValidator.validate(readFileSync(htmlPath, 'utf8')), true);
    assert.deepEqual(readdirSync(dir).sort(), ['figures', 'report.html'], 'no temporary files left');
    assert.deepEqual(readdirSync(join(dir, 'figures')).sort(), [
      'confusion.svg',
      'history.svg',
      'misclassification.svg',
      'spectrogram-0.png',
    ]);
    for (const svg of ['confusion.svg', 'history.svg', 'misclassification.svg']) {
      assert.equal(XMLValidator.validate(readFileSync(join(dir, 'figures', svg), 'utf8')), true, svg);
    }
  });
});

describe('a report with probabilities', () => {
  it('adds the calibration and per-speaker sections, the ROC AUC and the intervals, and writes reliability.svg', async () => {
    const probabilities = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1].map((predicted) => [0, 1, 2].map((c) => (c === predicted ? 0.6 : 0.2)));
    const withProbabilities = evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], null, LABELS, {
      probabilities,
      speakers: ['s1', 's1', 's2', 's2', 's1', 's1', 's2', 's2', 's1', 's2'],
    });
    const dir = tempDir();
    await writeHtmlReport(dir, { ...input('speaker-disjoint'), report: withProbabilities });
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.equal(XMLValidator.validate(html), true);
    for (const text of [
      '<h2>Calibration</h2>',
      'Reliability (ECE 0.000)',
      'ROC AUC (macro)',
      'mean confidence 60.00%',
      '95% CI',
      '<h2>Per speaker</h2>',
    ]) {
      assert.ok(html.includes(text), `missing ${text}`);
    }
    assert.ok(readdirSync(join(dir, 'figures')).includes('reliability.svg'));
  });
});

describe('spectrogramFigureSvg', () => {
  // 3 s at the paper's front end: 128 HTK mels over 0-8000 Hz, 188 frames of hop 256 at 16 kHz (16 ms), 2 px each;
  // the image's top-left corner is at (58, 8), so it spans x 58..434 and y 8..264.
  const clip = { data: Float32Array.from({ length: 128 * 188 }, (_, i) => ((i % 188) / 187) * -80 + 5), nMels: 128, frames: 188 };
  const svg = spectrogramFigureSvg(clip, DEFAULT_FRONT_END, { id: 'cb' });

  it('draws time in seconds: frame i centred at i x 16 ms, ticks every 0.5 s over 2.99 s', () => {
    assert.equal(XMLValidator.validate(svg), true);
    // t = 1 s is frame 62.5, whose centre is at 58 + (62.5 + 0.5) x 2 = 184 px.
    assert.ok(svg.includes('<line x1="184.0" y1="264.0" x2="184.0" y2="268.0"'), svg.slice(0, 400));
    const labels = [...svg.matchAll(/text-anchor="middle">([\d.]+)<\/text>/g)].map((m) => m[1]);
    assert.deepEqual(labels, ['0', '0.5', '1', '1.5', '2', '2.5']);
    assert.ok(svg.includes('>time (s)</text>'));
  });

  it('draws frequency at the mel bands: 1 kHz at band 44.92 (HTK mel 1000.0 of 2840.0, 129 steps), y = 264 - 2 x 44.92', () => {
    assert.ok(svg.includes('<line x1="54.0" y1="174.2" x2="58.0" y2="174.2"'));
    assert.ok(svg.includes('<line x1="54.0" y1="8.0" x2="58.0" y2="8.0"'), '8 kHz (f_max) at the top');
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)<\/text>/g)].map((m) => m[1]);
    assert.deepEqual(labels, ['0 Hz', '250 Hz', '500 Hz', '1 kHz', '2 kHz', '4 kHz', '8 kHz']);
  });

  it('has a colour bar from the clip maximum (5 dB, yellow) down 80 dB (dark purple)', () => {
    assert.match(svg, /<linearGradient id="cb" [^>]*><stop offset="0%" stop-color="rgb\(\d+,\d+,\d+\)"\/>/);
    assert.ok(svg.includes('fill="url(#cb)"'));
    const labels = [...svg.matchAll(/text-anchor="start">([^<]+)<\/text>/g)].map((m) => m[1]);
    assert.deepEqual(labels, ['5 dB', '-35 dB', '-75 dB']);
  });

  it('in a report: the figure with axes replaces the bare image, under a note on where the clips come from', async () => {
    const page = await renderHtmlReport({
      ...input('speaker-disjoint'),
      spectrograms: [{ title: 'angry example', spectrogram: clip, axes: DEFAULT_FRONT_END }],
      spectrogramsNote: 'From the test part.',
    });
    assert.equal(XMLValidator.validate(page), true);
    assert.ok(page.includes('<p class="small">From the test part.</p>\n<div class="spectrograms">'));
    assert.ok(page.includes('fill="url(#colour-bar-0)"'));
    assert.ok(!page.includes('<img alt="angry example"'));
  });
});

describe('formatDuration', () => {
  it('seconds, minutes, hours', () => {
    assert.equal(formatDuration(12.34), '12.3 s');
    assert.equal(formatDuration(125), '2 min 05 s');
    assert.equal(formatDuration(3725.4), '1 h 02 min 05 s');
  });
});
