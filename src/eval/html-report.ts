/**
 * One self-contained `report.html` per run: run information, the protocol the numbers come from (with the
 * speaker/sentence leakage warning), headline metrics, figures (inline SVG, spectrograms as inline PNG),
 * per-class table, most confused pairs, hyper-parameters and the epoch log. No network: no scripts, fonts or
 * images are fetched. The markup is well-formed XML (XHTML polyglot), so any XML parser can read it.
 */
import { join } from 'node:path';
import type { SplitProtocol } from '../data/splits.js';
import { writeFileAtomic } from '../io/atomic.js';
import {
  type EpochRecord,
  bestEpoch,
  validated,
  confusionFigureSvg,
  historyFigureSvg,
  misclassificationFigureSvg,
  reliabilityFigureSvg,
} from './figures.js';
import { perClassTable, perSpeakerTable } from './format.js';
import { type Interval, intervalText } from './intervals.js';
import { toJson } from './json.js';
import type { EvaluationReport } from './metrics.js';
import { type SpectrogramAxes, type SpectrogramLike, spectrogramFigureSvg, spectrogramPng } from './spectrogram-image.js';

/** What was run: shown at the top of the report. */
export interface RunInfo {
  /** Corpus and where it came from, e.g. 'ravdess (../shared/data/ravdess, actors 01-18)'. */
  dataset: string;
  protocol: SplitProtocol;
  seed: number;
  splitCounts: { train: number; validation: number; test: number };
  /** Front-end and model configuration (shown as a key/value table). */
  config?: Record<string, unknown>;
  /** Training hyper-parameters (lr, batch size, patience, ...). */
  hyperParameters?: Record<string, unknown>;
  /** Epochs run. */
  epochs: number;
  /** Epoch whose weights were evaluated (default: lowest validation loss in the history). */
  bestEpoch?: number | null;
  wallTimeS: number;
  /** Which part the metrics are computed on (default 'test split'). */
  evaluatedOn?: string;
  /** Page title (default 'Speech emotion recognition: <dataset>'). */
  title?: string;
  /** ISO time the report was made (default now). */
  createdAt?: string;
  /** A sentence added to the training-history caption: what the curves show when it is not obvious (e.g. a weight average). */
  historyNote?: string;
  /** A CSV file beside the report with each evaluated recording's prediction (src/eval/predictions.ts), linked. */
  predictionsFile?: string;
}

/** A spectrogram to show as an example input. */
export interface SpectrogramExample {
  title: string;
  spectrogram: SpectrogramLike;
  caption?: string;
  /** The front end that made it: drawn with time and frequency axes and a colour bar (else the bare image). */
  axes?: SpectrogramAxes;
}

/** Everything `writeHtmlReport` shows. */
export interface HtmlReportInput {
  run: RunInfo;
  /** Per-epoch log (may be empty for an evaluation-only report). */
  history: readonly EpochRecord[];
  report: EvaluationReport;
  spectrograms?: readonly SpectrogramExample[];
  /** A sentence under the spectrograms' heading: where they come from. */
  spectrogramsNote?: string;
}

/** Files written by `writeHtmlReport`. */
export interface WrittenReport {
  html: string;
  figures: string[];
}

/**
 * Writes `<dir>/report.html` (self-contained) and the same figures as separate files in `<dir>/figures/`
 * (history.svg, confusion.svg, misclassification.svg, reliability.svg when the report has probabilities,
 * spectrogram-<i>.png, and spectrogram-<i>.svg with axes), each atomically.
 */
export async function writeHtmlReport(dir: string, input: HtmlReportInput): Promise<WrittenReport> {
  const parts = await renderParts(input);
  const figures: string[] = [];
  const save = (name: string, data: string | Uint8Array): void => {
    const path = join(dir, 'figures', name);
    writeFileAtomic(path, data);
    figures.push(path);
  };
  if (parts.historySvg !== null) save('history.svg', parts.historySvg);
  save('confusion.svg', parts.confusionSvg);
  save('misclassification.svg', parts.misclassificationSvg);
  if (parts.reliabilitySvg !== null) save('reliability.svg', parts.reliabilitySvg);
  for (const [i, png] of parts.spectrogramPngs.entries()) save(`spectrogram-${i}.png`, png);
  for (const [i, svg] of parts.spectrogramSvgs.entries()) if (svg !== null) save(`spectrogram-${i}.svg`, svg);
  const html = join(dir, 'report.html');
  writeFileAtomic(html, pageHtml(input, parts));
  return { html, figures };
}

/** The report page as a string (what `writeHtmlReport` writes to report.html). */
export async function renderHtmlReport(input: HtmlReportInput): Promise<string> {
  return pageHtml(input, await renderParts(input));
}

interface RenderedParts {
  historySvg: string | null;
  confusionSvg: string;
  misclassificationSvg: string;
  /** Null when the report has no probabilities. */
  reliabilitySvg: string | null;
  spectrogramPngs: Uint8Array[];
  /** The figure with axes of each spectrogram that has them. */
  spectrogramSvgs: Array<string | null>;
}

async function renderParts(input: HtmlReportInput): Promise<RenderedParts> {
  const best = input.run.bestEpoch === undefined ? bestEpoch(input.history) : input.run.bestEpoch;
  return {
    historySvg: input.history.length === 0 ? null : await historyFigureSvg(input.history, { bestEpoch: best }),
    confusionSvg: await confusionFigureSvg(input.report),
    misclassificationSvg: await misclassificationFigureSvg(input.report),
    reliabilitySvg: input.report.calibration === null ? null : await reliabilityFigureSvg(input.report.calibration),
    spectrogramPngs: (input.spectrograms ?? []).map((s) => spectrogramPng(s.spectrogram)),
    spectrogramSvgs: (input.spectrograms ?? []).map((s, i) =>
      s.axes ? spectrogramFigureSvg(s.spectrogram, s.axes, { id: `colour-bar-${i}` }) : null,
    ),
  };
}

const PROTOCOL_TEXT: Record<SplitProtocol, { name: string; cls: string; text: string }> = {
  'random-stratified': {
    name: 'random stratified split',
    cls: 'warning',
    text:
      'These numbers come from a random stratified split. Random splits of acted corpora leak speaker and sentence: ' +
      'the same actors speak the same scripted sentences in training and test, so a model can score by recognising ' +
      'the voice or the sentence rather than the emotion. Expect lower accuracy on speakers it has not heard; the ' +
      'speaker-disjoint protocol measures that.',
  },
  'speaker-disjoint': {
    name: 'speaker-disjoint split',
    cls: 'note',
    text:
      'These numbers come from a speaker-disjoint split: no speaker appears in two of train, validation and test, so ' +
      'they estimate accuracy on new speakers. Acted corpora reuse a few scripted sentences across speakers, so the ' +
      'sentences themselves are still shared. (Random splits of acted corpora leak speaker and sentence and give ' +
      'higher, optimistic numbers.)',
  },
  'leave-one-corpus-out': {
    name: 'leave-one-corpus-out split',
    cls: 'note',
    text:
      'These numbers come from a corpus the model never saw in training or model selection: other speakers, ' +
      "language, recording conditions and actors' directions. They estimate what a user with their own recordings gets.",
  },
};

/** The example inputs: each spectrogram with its axes (or the bare image), title and caption. */
function spectrogramSection(input: HtmlReportInput, parts: RenderedParts): string[] {
  if (parts.spectrogramPngs.length === 0) return [];
  const section = ['<h2>Example inputs (log-mel spectrograms)</h2>'];
  if (input.spectrogramsNote) section.push(`<p class="small">${esc(input.spectrogramsNote)}</p>`);
  section.push('<div class="spectrograms">');
  (input.spectrograms ?? []).forEach((s, i) => {
    const png = parts.spectrogramPngs[i]!;
    const caption = s.caption ?? `${s.spectrogram.nMels} mel bins (low at the bottom) × ${s.spectrogram.frames} frames; 80 dB range`;
    const image =
      parts.spectrogramSvgs[i] ?? `<img alt="${esc(s.title)}" src="data:image/png;base64,${Buffer.from(png).toString('base64')}"/>`;
    section.push(
      `<figure><figcaption><strong>${esc(s.title)}</strong></figcaption>${image}<figcaption class="small">${esc(caption)}</figcaption></figure>`,
    );
  });
  section.push('</div>');
  return section;
}

/** A share as a percentage with two decimals; '-' for null. */
function percent(v: number | null): string {
  return v === null ? '-' : `${(100 * v).toFixed(2)}%`;
}

/** Title, the protocol's warning or note, the headline metrics and the run's facts. */
function summarySection(input: HtmlReportInput, title: string, best: number | null): string[] {
  const { run, report } = input;
  const protocol = PROTOCOL_TEXT[run.protocol];
  const { train, validation, test } = run.splitCounts;
  const runRows: Array<[string, string]> = [
    ['dataset', run.dataset],
    ['protocol', protocol.name],
    ['seed', String(run.seed)],
    ['split (train / validation / test)', `${train} / ${validation} / ${test} (total ${train + validation + test})`],
    ['evaluated on', `${run.evaluatedOn ?? 'test split'}; ${report.samples} samples`],
    ['epochs run', String(run.epochs)],
    [
      'best epoch (weights evaluated)',
      best === null ? '-' : validated(input.history) ? String(best) : `${best} (the last: no validation part)`,
    ],
    ['wall time', formatDuration(run.wallTimeS)],
    ['report made', run.createdAt ?? new Date().toISOString()],
  ];
  const interval = (range: Interval): string => `95% CI ${intervalText(range)}`;
  const headline: Array<[string, string, string?]> = [
    ['accuracy', percent(report.accuracy), interval(report.accuracyInterval)],
    ['UAR', percent(report.uar), interval(report.uarInterval)],
    ['macro F1', percent(report.macro.f1)],
    ['weighted F1', percent(report.weighted.f1)],
  ];
  if (report.rocAuc !== null) headline.push(['ROC AUC (macro)', report.rocAuc.toFixed(3)]);
  if (report.calibration !== null) {
    headline.push([
      'calibration error (ECE)',
      report.calibration.ece.toFixed(3),
      `mean confidence ${percent(report.calibration.meanConfidence)}`,
    ]);
  }
  if (report.crossEntropy !== null) headline.push(['cross-entropy', report.crossEntropy.toFixed(4)]);
  return [
    `<h1>${esc(title)}</h1>`,
    `<p class="${protocol.cls}"><strong>Protocol: ${esc(protocol.name)}.</strong> ${esc(protocol.text)}</p>`,
    `<div class="cards">${headline
      .map(
        ([k, v, ci]) =>
          `<div class="card"><div class="value">${esc(v)}</div><div class="key">${esc(k)}</div>${ci === undefined ? '' : `<div class="key">${esc(ci)}</div>`}</div>`,
      )
      .join('')}</div>`,
    `<p class="small">Metrics on ${report.samples} samples (${esc(run.evaluatedOn ?? 'test split')}) of the ${esc(protocol.name)}. ` +
      'The 95% confidence intervals give the spread from sampling the test recordings only, not the variation between training runs.</p>',
    '<h2>Run</h2>',
    keyValueTable(runRows),
  ];
}

/** The training history figure, confusion matrix, misclassification figure and per-class tables. */
function metricsSection(report: EvaluationReport, parts: RenderedParts, run: Pick<RunInfo, 'historyNote' | 'predictionsFile'>): string[] {
  const [perClassHeader, ...perClassRows] = perClassTable(report, percent).map((row) => row.map(esc));
  const section: string[] = [];
  if (parts.historySvg !== null) {
    section.push(
      '<h2>Training history</h2>',
      figure(
        parts.historySvg,
        'Loss and accuracy per epoch; the dashed line marks the best epoch (the one whose weights are evaluated).' +
          (run.historyNote === undefined ? '' : ` ${run.historyNote}`),
      ),
    );
  }
  section.push(
    '<h2>Confusion matrix</h2>',
    figure(parts.confusionSvg, 'Rows = true class, columns = predicted class; each cell: count and % of the true class (row-normalised).'),
    '<h2>Per-class misclassification (Table I)</h2>',
    figure(parts.misclassificationSvg, 'Share of each class’s samples predicted as another class (1 − recall).'),
    ...(parts.reliabilitySvg === null
      ? []
      : [
          '<h2>Calibration</h2>',
          figure(
            parts.reliabilitySvg,
            'Samples grouped by the model’s confidence (its largest probability, 15 bins): bars = accuracy in the bin, red ticks = ' +
              'mean confidence, dashed = perfect calibration; bars below the diagonal mean the model is more confident than right. ' +
              'Numbers on the bars: samples in the bin.',
          ),
        ]),
    '<h2>Per-class metrics</h2>',
    table(perClassHeader!, perClassRows, [0]),
    '<h2>Most confused pairs</h2>',
    report.mostConfused.length === 0
      ? '<p>None: every sample was predicted correctly.</p>'
      : table(
          ['true class', 'predicted as', 'count', '% of true class'],
          report.mostConfused.map((p) => [esc(p.trueLabel), esc(p.predictedLabel), String(p.count), percent(p.rate)]),
          [0, 1],
        ),
    ...(run.predictionsFile
      ? [
          `<p class="small">Each recording’s true class, prediction and probabilities: <a href="${esc(run.predictionsFile)}">${esc(run.predictionsFile)}</a>` +
            ' (compare two models on the same recordings with <code>ser compare</code>).</p>',
        ]
      : []),
  );
  if (report.perSpeaker.length > 0) {
    const [header, ...rows] = perSpeakerTable(report, percent).map((row) => row.map(esc));
    section.push(
      '<h2>Per speaker</h2>',
      '<p class="small">How far the numbers move from one voice to the next (the 95% interval: the sampling of that speaker’s recordings).</p>',
      table(header!, rows, [0]),
    );
  }
  return section;
}

/** Hyper-parameters and configuration, when given. */
function settingsSection(run: RunInfo): string[] {
  const section: string[] = [];
  if (run.hyperParameters)
    section.push('<h2>Hyper-parameters</h2>', keyValueTable(Object.entries(run.hyperParameters).map(([k, v]) => [k, show(v)])));
  if (run.config) section.push('<h2>Configuration</h2>', keyValueTable(Object.entries(run.config).map(([k, v]) => [k, show(v)])));
  return section;
}

/** Every epoch's metrics in a collapsed table, the best epoch in bold. */
function epochLogSection(history: readonly EpochRecord[], best: number | null): string[] {
  if (history.length === 0) return [];
  const rows = history.map((h) =>
    [
      String(h.epoch),
      h.train_loss.toFixed(4),
      percent(h.train_accuracy),
      h.val_loss === null ? '-' : h.val_loss.toFixed(4),
      percent(h.val_accuracy),
      h.lr.toExponential(2),
      h.seconds.toFixed(1),
    ].map((cell) => (h.epoch === best ? `<strong>${cell}</strong>` : cell)),
  );
  return [
    `<details><summary>Epoch log (${history.length} epochs)</summary>`,
    table(['epoch', 'train loss', 'train acc', 'val loss', 'val acc', 'lr', 'seconds'], rows, []),
    '</details>',
  ];
}

/** The metrics' definitions and a machine-readable copy of the report. */
function definitionsSection(report: EvaluationReport): string[] {
  return [
    '<h2>Definitions</h2>',
    '<p class="small">scikit-learn conventions: precision = TP / predicted, recall = TP / support, F1 = 2·TP / (predicted + support), ' +
      '0 when the denominator is 0 (zero_division = 0). Macro = unweighted mean over classes, weighted = mean weighted by support, ' +
      'UAR = mean recall over the classes present in the evaluated set, misclassification rate = 1 − recall.</p>',
    // Machine-readable copy of the metrics; "<" is escaped so the JSON cannot close the element.
    `<script type="application/json" id="evaluation-report">${JSON.stringify(toJson(report)).replaceAll('<', '\\u003c').replaceAll('&', '\\u0026')}</script>`,
  ];
}

function pageHtml(input: HtmlReportInput, parts: RenderedParts): string {
  const title = input.run.title ?? `Speech emotion recognition: ${input.run.dataset}`;
  const best = input.run.bestEpoch === undefined ? bestEpoch(input.history) : input.run.bestEpoch;
  const body = [
    ...summarySection(input, title, best),
    ...metricsSection(input.report, parts, input.run),
    ...settingsSection(input.run),
    ...spectrogramSection(input, parts),
    ...epochLogSection(input.history, best),
    ...definitionsSection(input.report),
  ];
  return `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; max-width: 1100px; margin: 24px auto; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.warning { background: #fff4e5; border-left: 5px solid #f0a020; padding: 10px 14px; }
.note { background: #eef6ee; border-left: 5px solid #3a9a3a; padding: 10px 14px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0 4px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 110px; }
.card .value { font-size: 22px; font-weight: bold; } .card .key { color: #666; font-size: 13px; }
table { border-collapse: collapse; font-size: 14px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f5f5f5; } td.text, th.text { text-align: left; }
figure { margin: 8px 0; } figcaption { font-size: 13px; color: #555; margin: 4px 0; }
.small { font-size: 13px; color: #555; }
.spectrograms { display: flex; gap: 16px; flex-wrap: wrap; }
.spectrograms img { image-rendering: pixelated; border: 1px solid #ccc; }
`;

function figure(svg: string, caption: string): string {
  // Drop an XML declaration if a renderer adds one: it is not allowed inside the page.
  return `<figure>${svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>${esc(caption)}</figcaption></figure>`;
}

function keyValueTable(rows: Array<[string, string]>): string {
  return `<table>${rows.map(([k, v]) => `<tr><th class="text">${esc(k)}</th><td class="text">${esc(v)}</td></tr>`).join('')}</table>`;
}

/** Cells are HTML already (escaped by the caller); `textColumns` are left-aligned. */
function table(header: string[], rows: string[][], textColumns: number[]): string {
  const cls = (c: number): string => (textColumns.includes(c) ? ' class="text"' : '');
  const head = `<tr>${header.map((h, c) => `<th${cls(c)}>${esc(h)}</th>`).join('')}</tr>`;
  return `<table>${head}${rows.map((row) => `<tr>${row.map((cell, c) => `<td${cls(c)}>${cell}</td>`).join('')}</tr>`).join('')}</table>`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** 3725.4 -> "1 h 02 min 05 s". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min ${String(rest).padStart(2, '0')} s`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${seconds.toFixed(1)} s`;
}
