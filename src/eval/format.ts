/**
 * A readable terminal rendering of an `EvaluationReport`: overall metrics, a per-class table, the confusion
 * matrix with labels and the most confused pairs. Columns are aligned with spaces; ANSI colour only when asked.
 */
import { type Interval, intervalText } from './intervals.js';
import type { EvaluationReport } from './metrics.js';

/** Options of `formatReport`. */
export interface FormatOptions {
  /** Bold headings and highlighted confusion diagonal via ANSI codes (default false; pass `process.stdout.isTTY`). */
  color?: boolean;
  /** Decimals of percentages (default 2). */
  digits?: number;
  /** First line (default `Evaluation: N samples, K classes`). */
  title?: string;
}

type Align = 'left' | 'right';
interface Cell {
  text: string;
  style?: 'bold' | 'good' | 'dim';
}

const ANSI: Record<NonNullable<Cell['style']>, [string, string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  good: ['\x1b[32m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
};

/** Multi-line plain text (ANSI-coloured with `color: true`) for the terminal. */
export function formatReport(report: EvaluationReport, options: FormatOptions = {}): string {
  const color = options.color ?? false;
  const digits = options.digits ?? 2;
  const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(digits)}%`);
  const style = (cell: Cell): string =>
    color && cell.style && cell.text !== '' ? `${ANSI[cell.style][0]}${cell.text}${ANSI[cell.style][1]}` : cell.text;
  const heading = (text: string): string => style({ text, style: 'bold' });
  const lines: string[] = [];

  lines.push(heading(options.title ?? `Evaluation: ${report.samples} samples, ${report.labels.length} classes`));
  const interval = (range: Interval): Cell => ({ text: `95% CI ${intervalText(range)}`, style: 'dim' });
  const overall: Cell[][] = [
    [{ text: 'accuracy' }, { text: pct(report.accuracy), style: 'bold' }, interval(report.accuracyInterval)],
    [{ text: 'unweighted average recall (UAR)' }, { text: pct(report.uar) }, interval(report.uarInterval)],
    [{ text: 'macro F1' }, { text: pct(report.macro.f1), style: 'bold' }, { text: '' }],
    [{ text: 'weighted F1' }, { text: pct(report.weighted.f1) }, { text: '' }],
  ];
  if (report.rocAuc !== null) overall.push([{ text: 'ROC AUC (macro, one-vs-rest)' }, { text: report.rocAuc.toFixed(4) }, { text: '' }]);
  if (report.calibration !== null) {
    const { ece, meanConfidence } = report.calibration;
    overall.push([
      { text: 'expected calibration error (15 bins)' },
      { text: ece.toFixed(4) },
      { text: `mean confidence ${pct(meanConfidence)}`, style: 'dim' },
    ]);
  }
  if (report.crossEntropy !== null) {
    overall.push([{ text: 'mean cross-entropy (nats)' }, { text: report.crossEntropy.toFixed(4) }, { text: '' }]);
  }
  lines.push(...renderTable(overall, ['left', 'right', 'left'], style));
  lines.push('  (95% CI: the spread from sampling the test recordings only, not the variation between training runs)');

  lines.push('', heading('Per class'));
  const [header, ...rows] = perClassTable(report, pct);
  const averages = rows.length - 2; // the last two rows are the macro and weighted averages
  const perClass: Cell[][] = [
    header!.map((text) => ({ text, style: 'bold' as const })),
    ...rows.map((row, i) => row.map((text) => (i >= averages ? { text, style: 'dim' as const } : { text }))),
  ];
  lines.push(...renderTable(perClass, ['left', ...header!.slice(1).map((): Align => 'right')], style));
  if (report.macroAveragedOver.length !== report.labels.length) {
    lines.push(`  (macro averages over ${report.macroAveragedOver.join(', ')}: the other classes occur in neither truth nor predictions)`);
  }

  lines.push('', heading('Confusion matrix (rows = true class, columns = predicted class)'));
  const confusion: Cell[][] = [
    [{ text: 'true \\ predicted', style: 'bold' }, ...report.labels.map((text) => ({ text, style: 'bold' as const }))],
    ...report.confusion.map((row, i) => [
      { text: report.labels[i]!, style: 'bold' as const },
      ...row.map((v, j) => ({ text: String(v), style: i === j ? ('good' as const) : v === 0 ? ('dim' as const) : undefined })),
    ]),
  ];
  lines.push(...renderTable(confusion, ['left', ...report.labels.map((): Align => 'right')], style));

  lines.push('', heading('Most confused (true -> predicted)'));
  if (report.mostConfused.length === 0) lines.push('  none: every sample was predicted correctly');
  else {
    const pairs = report.mostConfused.map((p) => [
      { text: `${p.trueLabel} -> ${p.predictedLabel}` },
      { text: String(p.count) },
      { text: pct(p.rate) },
      { text: `of ${p.trueLabel} samples` },
    ]);
    lines.push(...renderTable(pairs, ['left', 'right', 'right', 'left'], style));
  }

  if (report.perSpeaker.length > 0) {
    const accuracies = report.perSpeaker.map((p) => p.accuracy).sort((a, b) => a - b);
    const median = (accuracies[(accuracies.length - 1) >> 1]! + accuracies[accuracies.length >> 1]!) / 2;
    lines.push(
      '',
      heading(
        `Per speaker (${report.perSpeaker.length}): accuracy ${pct(accuracies[0]!)} to ${pct(accuracies.at(-1)!)}, median ${pct(median)}`,
      ),
    );
    const [header, ...rows] = perSpeakerTable(report, pct);
    // Many speakers (a random split of a large corpus): the least accurate ones here, all in --json and report.html.
    const shown =
      rows.length <= MAX_SPEAKER_ROWS
        ? rows
        : rows
            .map((row, i) => ({ row, accuracy: report.perSpeaker[i]!.accuracy }))
            .sort((a, b) => a.accuracy - b.accuracy)
            .slice(0, MAX_SPEAKER_ROWS)
            .map((r) => r.row);
    lines.push(
      ...renderTable(
        [header!.map((text) => ({ text, style: 'bold' as const })), ...shown.map((row) => row.map((text) => ({ text })))],
        ['left', 'right', 'right', 'left', 'right'],
        style,
      ),
    );
    if (shown.length < rows.length) {
      lines.push(`  (the ${shown.length} least accurate of ${rows.length} speakers; all of them in --json and report.html)`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Speakers listed in the terminal before only the least accurate are shown. */
const MAX_SPEAKER_ROWS = 24;

/** The per-speaker table shared by the terminal and the HTML report: speaker, samples, accuracy, its 95% CI, UAR. */
export function perSpeakerTable(report: EvaluationReport, pct: (v: number | null) => string): string[][] {
  return [
    ['speaker', 'samples', 'accuracy', '95% CI', 'UAR'],
    ...report.perSpeaker.map((p) => [p.speaker, String(p.samples), pct(p.accuracy), intervalText(p.accuracyInterval), pct(p.uar)]),
  ];
}

/** Rows of cells -> indented lines, each column padded to its widest cell (widths counted before styling). */
function renderTable(rows: Cell[][], align: Align[], style: (cell: Cell) => string): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((row) => row[c]?.text.length ?? 0)));
  return rows.map(
    (row) =>
      `  ${row
        .map((cell, c) => {
          const pad = ' '.repeat(widths[c]! - cell.text.length);
          return align[c] === 'left' ? style(cell) + pad : pad + style(cell);
        })
        .join('  ')
        .trimEnd()}`,
  );
}

/**
 * The per-class table shared by the terminal table and the HTML report: a header row, one row per class
 * (precision, recall, F1, support, predicted count, misclassification rate), then the macro and weighted averages.
 */
export function perClassTable(report: EvaluationReport, pct: (v: number | null) => string): string[][] {
  // The ROC AUC column only when the report has probabilities; its macro row is the macro AUC.
  const auc = report.rocAuc === null ? null : (v: number | null): string[] => [v === null ? '-' : v.toFixed(3)];
  const average = (name: string, m: { precision: number; recall: number; f1: number }, macroAuc: number | null): string[] => [
    name,
    pct(m.precision),
    pct(m.recall),
    pct(m.f1),
    String(report.samples),
    '',
    '',
    ...(auc === null ? [] : macroAuc === null ? [''] : auc(macroAuc)),
  ];
  return [
    ['class', 'precision', 'recall', 'F1', 'support', 'predicted', 'misclassified', ...(auc === null ? [] : ['ROC AUC'])],
    ...report.perClass.map((c) => [
      c.label,
      pct(c.precision),
      pct(c.recall),
      pct(c.f1),
      String(c.support),
      String(c.predicted),
      pct(c.misclassificationRate),
      ...(auc === null ? [] : auc(c.rocAuc)),
    ]),
    average('macro avg', report.macro, report.rocAuc),
    average('weighted avg', report.weighted, null),
  ];
}
