/**
 * A log-mel spectrogram as a PNG image (viridis colour map), for reports and `ser features --png`-like views.
 */
import pngjs from 'pngjs';
import { SerError } from '../errors.js';

/** `Spectrogram` of src/features: data [nMels, frames] row-major (mel bin 0 = lowest frequency). */
export interface SpectrogramLike {
  data: Float32Array;
  nMels: number;
  frames: number;
}

/** Options of `spectrogramPng`. */
export interface SpectrogramPngOptions {
  /** Values below max - dynamicRangeDb are drawn as the darkest colour (default 80, the front end's top_db). */
  dynamicRangeDb?: number;
  /** Horizontal pixels per frame (default 2). */
  pixelsPerFrame?: number;
  /** Vertical pixels per mel bin (default 2). */
  pixelsPerMel?: number;
}

/**
 * Viridis (matplotlib's default colour map) as a degree-6 polynomial per channel, t in [0, 1] -> RGB in [0, 1].
 * Fit by Matt Zucker (shadertoy WlfXRN, CC0) to matplotlib's 256-entry table. An approximation good for
 * display: at the ends it is within 0.015 of matplotlib's table (checked in test/eval/figures.test.ts).
 */
const VIRIDIS_COEFFICIENTS: ReadonlyArray<readonly [number, number, number]> = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

/** Viridis colour of t (clamped to [0, 1]) as 8-bit [r, g, b]. */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const rgb: [number, number, number] = [0, 0, 0];
  for (let channel = 0; channel < 3; channel++) {
    let v = 0; // Horner: c0 + x·(c1 + x·(c2 + ...))
    for (let k = VIRIDIS_COEFFICIENTS.length - 1; k >= 0; k--) v = v * x + VIRIDIS_COEFFICIENTS[k]![channel]!;
    rgb[channel] = Math.round(255 * Math.min(1, Math.max(0, v)));
  }
  return rgb;
}

/**
 * Renders a log-mel spectrogram (dB) as PNG bytes: time left to right, low mel bins at the bottom; the
 * loudest value maps to yellow, max - dynamicRangeDb and below to dark purple.
 * @param spectrogram data [nMels, frames] row-major, in dB.
 * @throws SerError ESHAPE when data.length is not nMels × frames.
 */
export function spectrogramPng(spectrogram: SpectrogramLike, options: SpectrogramPngOptions = {}): Uint8Array {
  const { data, nMels, frames } = spectrogram;
  if (nMels <= 0 || frames <= 0 || data.length !== nMels * frames) {
    throw new SerError(
      'ESHAPE',
      'eval',
      `spectrogram has ${data.length} values but nMels ${nMels} x frames ${frames} = ${nMels * frames}: expected data [nMels, frames] row-major`,
    );
  }
  const range = options.dynamicRangeDb ?? 80;
  const sx = options.pixelsPerFrame ?? 2;
  const sy = options.pixelsPerMel ?? 2;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of data) if (Number.isFinite(v) && v > max) max = v;
  const floor = max - range;
  const png = new pngjs.PNG({ width: frames * sx, height: nMels * sy });
  for (let y = 0; y < png.height; y++) {
    const mel = nMels - 1 - Math.floor(y / sy); // top row = highest mel bin
    for (let x = 0; x < png.width; x++) {
      const v = data[mel * frames + Math.floor(x / sx)]!;
      const [r, g, b] = viridis(range > 0 ? (v - floor) / range : 1);
      const o = 4 * (y * png.width + x);
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  }
  return new Uint8Array(pngjs.PNG.sync.write(png));
}
