/** Figures are well-formed SVG (XML-valid) and carry the labels and numbers they plot. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import pngjs from 'pngjs';
import { SerError } from '../../src/errors.js';
import {
  type EpochRecord,
  bestEpoch,
  confusionFigureSvg,
  evaluate,
  historyFigureSvg,
  misclassificationFigureSvg,
  reliabilityFigureSvg,
  spectrogramPng,
  viridis,
} from '../../src/eval/index.js';

const LABELS = ['neutral', 'happy', 'sad'];
const report = evaluate([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], LABELS);

const history: EpochRecord[] = [
  { epoch: 1, train_loss: 1.9, train_accuracy: 0.3, val_loss: 1.7, val_accuracy: 0.35, lr: 1e-4, seconds: 10 },
  { epoch: 2, train_loss: 1.4, train_accuracy: 0.5, val_loss: 1.2, val_accuracy: 0.55, lr: 1e-4, seconds: 10 },
  { epoch: 3, train_loss: 1.0, train_accuracy: 0.7, val_loss: 1.1, val_accuracy: 0.6, lr: 1e-4, seconds: 10 },
  { epoch: 4, train_loss: 0.7, train_accuracy: 0.8, val_loss: 1.1, val_accuracy: 0.62, lr: 1e-4, seconds: 10 },
  { epoch: 5, train_loss: 0.5, train_accuracy: 0.9, val_loss: 1.3, val_accuracy: 0.58, lr: 1e-4, seconds: 10 },
];

/** Every text node of an SVG (Vega writes one <text> element per label). */
function svgTexts(svg: string): string[] {
  const validation = XMLValidator.validate(svg);
  assert.equal(validation, true, `SVG is not well-formed XML: ${JSON.stringify(validation)}`);
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '#text') texts.push(String(value));
        else walk(value);
      }
    }
  };
  walk(new XMLParser({ preserveOrder: true, ignoreAttributes: true }).parse(svg));
  return texts;
}

describe('bestEpoch', () => {
  it('lowest validation loss, earliest on ties', () => assert.equal(bestEpoch(history), 3));
  it('falls back to training loss without validation; null when empty', () => {
    assert.equal(bestEpoch(history.map((h) => ({ ...h, val_loss: null, val_accuracy: null }))), 5);
    assert.equal(bestEpoch([]), null);
  });
  it('skips diverged (NaN) epochs', () => {
    const diverged = history.map((h) => (h.epoch === 1 ? { ...h, val_loss: Number.NaN } : h));
    assert.equal(bestEpoch(diverged), 3);
  });
});

describe('SVG figures', () => {
  it('history: two panels, best epoch marked', async () => {
    const svg = await historyFigureSvg(history);
    assert.ok(svg.startsWith('<svg'));
    const texts = svgTexts(svg);
    for (const t of ['Cross-entropy loss', 'Accuracy', 'train', 'validation', 'best epoch 3']) assert.ok(texts.includes(t), `missing ${t}`);
    assert.ok(svgTexts(await historyFigureSvg(history, { bestEpoch: null })).every((t) => !t.startsWith('best epoch')));
  });

  it('history of a run with no validation part: the kept epoch is marked as the last, not the best', async () => {
    const finalFit = history.map((h) => ({ ...h, val_loss: null, val_accuracy: null }));
    const texts = svgTexts(await historyFigureSvg(finalFit));
    assert.ok(texts.includes('last epoch 5 (no validation)'), texts.join(' | '));
    assert.ok(!texts.includes('validation') && texts.every((t) => !t.startsWith('best epoch')));
  });

  it('confusion heatmap: labels, counts and row-normalised %', async () => {
    const texts = svgTexts(await confusionFigureSvg(report));
    for (const label of LABELS) assert.ok(texts.includes(label), `missing ${label}`);
    // row neutral [2, 1, 1] of 4 -> 50.0%, 25.0%, 25.0%; row happy [1, 2, 0] of 3 -> 33.3%, 66.7%, 0.0%
    for (const t of ['50.0%', '25.0%', '33.3%', '66.7%', '0.0%', 'true class', 'predicted class'])
      assert.ok(texts.includes(t), `missing ${t}`);
    assert.equal(texts.filter((t) => t === '2').length >= 3, true, 'three cells hold the count 2');
  });

  it('misclassification bars: one per class with its rate', async () => {
    const texts = svgTexts(await misclassificationFigureSvg(report));
    // 1 - recall: neutral 1/2, happy 1/3, sad 1/3
    for (const t of [...LABELS, '50.0%', '33.3%']) assert.ok(texts.includes(t), `missing ${t}`);
  });
});

describe('reliability diagram', () => {
  it('one bar per non-empty confidence bin, labelled with its count; the title gives the ECE', async () => {
    // confidences 0.5 (2 samples, 1 right) and 0.8 (3 samples, 3 right): ECE = |0.5 - 0.5| x 2/5 + |1 - 0.8| x 3/5 = 0.12
    const probabilities = [
      [0.5, 0.5],
      [0.5, 0.5],
      [0.8, 0.2],
      [0.2, 0.8],
      [0.8, 0.2],
    ];
    const calibrated = evaluate([0, 1, 0, 1, 0], null, ['x', 'y'], { probabilities });
    const texts = svgTexts(await reliabilityFigureSvg(calibrated.calibration!));
    for (const t of ['Reliability (ECE 0.120)', '2', '3', 'accuracy', 'confidence (largest probability)']) {
      assert.ok(texts.includes(t), `missing ${t}`);
    }
  });
});

describe('spectrogramPng', () => {
  it('viridis: ends within 0.02 of matplotlib, green rising (dark purple -> yellow)', () => {
    // matplotlib's viridis table, first and last entries
    const expected: Array<[number, [number, number, number]]> = [
      [0, [0.267004, 0.004874, 0.329415]],
      [1, [0.993248, 0.906157, 0.143936]],
    ];
    for (const [t, rgb] of expected) {
      const got = viridis(t);
      for (let c = 0; c < 3; c++)
        assert.ok(Math.abs(got[c]! / 255 - rgb[c]!) < 0.02, `viridis(${t})[${c}] = ${got[c]! / 255}, expected ${rgb[c]}`);
    }
    for (let i = 1; i <= 100; i++) assert.ok(viridis(i / 100)[1] >= viridis((i - 1) / 100)[1], `green falls at ${i / 100}`);
    assert.deepEqual(viridis(-1), viridis(0));
    assert.deepEqual(viridis(Number.NaN), viridis(0));
  });

  it('low mel bins at the bottom, loudest value yellow, below the range dark', () => {
    // 3 mel bins x 2 frames; mel 0 (lowest) is loud (0 dB) in frame 0, everything else -100 dB (below 80 dB range)
    const data = Float32Array.from([0, -100, -100, -100, -100, -100]);
    const png = pngjs.PNG.sync.read(Buffer.from(spectrogramPng({ data, nMels: 3, frames: 2 }, { pixelsPerFrame: 1, pixelsPerMel: 1 })));
    assert.deepEqual([png.width, png.height], [2, 3]);
    const pixel = (x: number, y: number): number[] => [...png.data.subarray(4 * (y * 2 + x), 4 * (y * 2 + x) + 3)];
    assert.deepEqual(pixel(0, 2), viridis(1), 'bottom-left = mel 0, frame 0 = loudest');
    assert.deepEqual(pixel(0, 0), viridis(0), 'top-left = highest mel, clipped to the floor');
    assert.deepEqual(pixel(1, 2), viridis(0));
    const scaled = pngjs.PNG.sync.read(Buffer.from(spectrogramPng({ data, nMels: 3, frames: 2 })));
    assert.deepEqual([scaled.width, scaled.height], [4, 6]);
  });

  it('rejects data of the wrong size', () => {
    assert.throws(
      () => spectrogramPng({ data: new Float32Array(5), nMels: 3, frames: 2 }),
      (e: unknown) => e instanceof SerError && e.code === 'ESHAPE' && /5 values but nMels 3 x frames 2 = 6/.test(e.message),
    );
  });
});
