/**
 * Report figures as SVG strings: training history, confusion-matrix heatmap, per-class misclassification,
 * reliability diagram.
 * Each figure is a Vega-Lite spec compiled to Vega and rendered headless (`View.toSVG()`, renderer 'none':
 * no canvas, no DOM, no native dependency). Text widths are estimated by Vega when no canvas is installed,
 * which only affects automatic label padding.
 */
import { View, parse } from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';
import type { Calibration, EvaluationReport } from './metrics.js';

/**
 * Metrics of one epoch, one line of a run's history.jsonl (written by src/train). Losses are mean cross-entropy
 * (nats); validation fields are null when there is no validation set.
 */
export interface EpochRecord {
  epoch: number;
  /** Mean of the minibatch losses of the epoch (train mode: dropout on, batch statistics). */
  train_loss: number;
  /** Accuracy on the training clips of the model at the end of the epoch (eval mode). */
  train_accuracy: number;
  val_loss: number | null;
  val_accuracy: number | null;
  /** Unweighted average recall on the validation part (runs made before it was recorded lack it). */
  val_uar?: number;
  /**
   * With corpus-adversarial training: the corpus classifier's mean minibatch loss (ln(corpora) = it cannot tell
   * the corpora apart). `train_loss` is then the emotion term alone.
   */
  train_corpus_loss?: number;
  /** AdamW learning rate of the epoch's last step (constant without a schedule). */
  lr: number;
  /** Wall time of the epoch in seconds (training and both evaluation passes). */
  seconds: number;
}

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The epoch with the lowest validation loss (ties: the earliest), as early stopping restores it; falls back to
 * the lowest training loss when no epoch has a validation loss. Returns null for an empty history.
 */
export function bestEpoch(history: readonly EpochRecord[]): number | null {
  let best: EpochRecord | null = null;
  const hasValidation = validated(history);
  // A diverged epoch (NaN/Inf loss) is never the best.
  const finite = (v: number | null): number => (v !== null && Number.isFinite(v) ? v : Number.POSITIVE_INFINITY);
  const loss = (h: EpochRecord): number => finite(hasValidation ? h.val_loss : h.train_loss);
  for (const h of history) if (best === null || loss(h) < loss(best)) best = h;
  return best === null ? null : best.epoch;
}

/** Whether the history has validation scores (a run with no validation part, a final fit, has none). */
export function validated(history: readonly EpochRecord[]): boolean {
  return history.some((h) => h.val_loss !== null && Number.isFinite(h.val_loss));
}

/**
 * Loss and accuracy per epoch, train vs validation, side by side; a dashed rule marks the best epoch (the last one,
 * so labelled, when there was no validation).
 * @param options.bestEpoch epoch to mark (default `bestEpoch(history)`).
 */
export async function historyFigureSvg(history: readonly EpochRecord[], options: { bestEpoch?: number | null } = {}): Promise<string> {
  const best = options.bestEpoch === undefined ? bestEpoch(history) : options.bestEpoch;
  const rows: Array<{ epoch: number; split: string; metric: string; value: number }> = [];
  for (const h of history) {
    rows.push({ epoch: h.epoch, split: 'train', metric: 'loss', value: h.train_loss });
    rows.push({ epoch: h.epoch, split: 'train', metric: 'accuracy', value: h.train_accuracy });
    if (h.val_loss !== null) rows.push({ epoch: h.epoch, split: 'validation', metric: 'loss', value: h.val_loss });
    if (h.val_accuracy !== null) rows.push({ epoch: h.epoch, split: 'validation', metric: 'accuracy', value: h.val_accuracy });
  }
  const panel = (metric: 'loss' | 'accuracy') => ({
    width: 320,
    height: 220,
    title: metric === 'loss' ? 'Cross-entropy loss' : 'Accuracy',
    layer: [
      {
        transform: [{ filter: `datum.metric === '${metric}'` }],
        mark: { type: 'line' as const, point: history.length <= 40 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } },
          y: {
            field: 'value',
            type: 'quantitative' as const,
            title: metric,
            scale: { zero: metric === 'accuracy' },
            axis: metric === 'accuracy' ? { format: '.0%' } : {},
          },
          color: {
            field: 'split',
            type: 'nominal' as const,
            title: null,
            // No validation entry in the legend of a run that had none.
            scale: validated(history)
              ? { domain: ['train', 'validation'], range: ['#1f77b4', '#ff7f0e'] }
              : { domain: ['train'], range: ['#1f77b4'] },
          },
        },
      },
      ...(best === null
        ? []
        : [
            {
              data: { values: [{ epoch: best, label: validated(history) ? `best epoch ${best}` : `last epoch ${best} (no validation)` }] },
              layer: [
                {
                  mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#555' },
                  encoding: { x: { field: 'epoch', type: 'quantitative' as const } },
                },
                {
                  mark: { type: 'text' as const, align: 'left' as const, baseline: 'top' as const, dx: 4, y: 4, color: '#555' },
                  encoding: { x: { field: 'epoch', type: 'quantitative' as const }, text: { field: 'label' } },
                },
              ],
            },
          ]),
    ],
  });
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: rows },
    hconcat: [panel('loss'), panel('accuracy')],
  } as TopLevelSpec);
}

/** Confusion-matrix heatmap: rows = true class, columns = predicted; each cell shows the count and the row-normalised %. */
export async function confusionFigureSvg(report: EvaluationReport, options: { title?: string } = {}): Promise<string> {
  const cells = report.confusion.flatMap((row, i) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((count, j) => ({
      true: report.labels[i]!,
      predicted: report.labels[j]!,
      count,
      rate: support === 0 ? 0 : count / support,
      percent: support === 0 ? '-' : `${((100 * count) / support).toFixed(1)}%`,
    }));
  });
  const step = Math.max(44, Math.min(64, 10 + 7 * Math.max(...report.labels.map((l) => l.length))));
  const axes = {
    x: {
      field: 'predicted',
      type: 'nominal' as const,
      sort: report.labels,
      title: 'predicted class',
      axis: { labelAngle: -35, orient: 'bottom' as const },
    },
    y: { field: 'true', type: 'nominal' as const, sort: report.labels, title: 'true class' },
  };
  // White on dark cells, grey for empty cells so the non-zero confusions stand out.
  const textColor = {
    condition: [
      { test: 'datum.rate > 0.5', value: 'white' },
      { test: 'datum.count === 0', value: '#999' },
    ],
    value: 'black',
  };
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: options.title ?? 'Confusion matrix (count and % of the true class)',
    width: { step },
    height: { step },
    data: { values: cells },
    encoding: axes,
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'rate',
            type: 'quantitative',
            title: '% of true class',
            scale: { domain: [0, 1], range: ['#ffffff', '#08519c'], interpolate: 'rgb' },
            legend: { format: '.0%' },
          },
        },
      },
      { mark: { type: 'text', dy: -7, fontSize: 12, fontWeight: 'bold' }, encoding: { text: { field: 'count' }, color: textColor } },
      { mark: { type: 'text', dy: 8, fontSize: 10 }, encoding: { text: { field: 'percent' }, color: textColor } },
    ],
  } as TopLevelSpec);
}

/** Bar chart of each class's misclassification rate (1 - recall, the paper's Table I), in `labels` order. */
export async function misclassificationFigureSvg(report: EvaluationReport, options: { title?: string } = {}): Promise<string> {
  const bars = report.perClass
    .filter((c) => c.misclassificationRate !== null)
    .map((c) => ({
      label: c.label,
      rate: c.misclassificationRate!,
      text: `${(100 * c.misclassificationRate!).toFixed(1)}%`,
      support: c.support,
    }));
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: options.title ?? 'Per-class misclassification rate (1 - recall)',
    width: { step: 52 },
    height: 220,
    data: { values: bars },
    encoding: {
      x: { field: 'label', type: 'nominal', sort: report.labels, title: 'true class', axis: { labelAngle: -35 } },
      y: { field: 'rate', type: 'quantitative', title: 'misclassified', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
    },
    layer: [
      { mark: { type: 'bar', color: '#d62728' } },
      { mark: { type: 'text', baseline: 'bottom', dy: -3, fontSize: 11 }, encoding: { text: { field: 'text' } } },
    ],
  } as TopLevelSpec);
}

/**
 * Reliability diagram (Guo et al. 2017, Fig. 1): accuracy of each non-empty confidence bin as a bar over the bin,
 * the bin's mean confidence as a tick, and the diagonal where confidence equals accuracy. Bars below the diagonal =
 * overconfident. Each bar is labelled with its sample count.
 */
export async function reliabilityFigureSvg(calibration: Calibration, options: { title?: string } = {}): Promise<string> {
  const bins = calibration.bins.map((b) => ({ ...b, middle: (b.lower + b.upper) / 2, text: String(b.count) }));
  const percentAxis = { format: '.0%' };
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: options.title ?? `Reliability (ECE ${calibration.ece.toFixed(3)})`,
    width: 300,
    height: 260,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', color: '#888', strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: bins },
        layer: [
          {
            mark: { type: 'bar', color: '#1f77b4', opacity: 0.8, stroke: 'white', strokeWidth: 1 },
            encoding: {
              x: {
                field: 'lower',
                type: 'quantitative',
                title: 'confidence (largest probability)',
                scale: { domain: [0, 1] },
                axis: percentAxis,
              },
              x2: { field: 'upper' },
              y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: percentAxis },
              y2: { datum: 0 },
            },
          },
          {
            mark: { type: 'tick', orient: 'horizontal', color: '#d62728', thickness: 2, size: 16 },
            encoding: { x: { field: 'middle', type: 'quantitative' }, y: { field: 'confidence', type: 'quantitative' } },
          },
          {
            mark: { type: 'text', baseline: 'bottom', dy: -3, fontSize: 10 },
            encoding: {
              x: { field: 'middle', type: 'quantitative' },
              y: { field: 'accuracy', type: 'quantitative' },
              text: { field: 'text' },
            },
          },
        ],
      },
    ],
  } as TopLevelSpec);
}
