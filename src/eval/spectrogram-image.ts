/**
 * A log-mel spectrogram as a PNG image (viridis colour map), for `ser features --png`, and as an SVG figure with
 * time and frequency axes and a colour bar around that image, for reports.
 */
import pngjs from 'pngjs';
import { SerError } from '../errors.js';
import { HERTZ_TO_MEL } from '../features/mel.js';
import type { FrontEndConfig } from '../features/config.js';

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

/** What places a spectrogram's pixels in time and frequency: the front end that made it. */
export type SpectrogramAxes = Pick<FrontEndConfig, 'sampleRateHz' | 'hopLength' | 'fMinHz' | 'fMaxHz' | 'melScale'>;

const MARGIN = { left: 58, right: 74, top: 8, bottom: 38 };
const TIME_STEPS_S = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];
const FREQUENCY_TICKS_HZ = [0, 250, 500, 1000, 2000, 4000, 8000, 16000];

/**
 * The PNG of `spectrogramPng` (default pixel sizes) in an SVG figure: time axis in seconds (frame i is centred
 * at i · hop / rate, torch.stft's centre=True), frequency axis in Hz at the mel-spaced bands' positions (band k's
 * centre is mel point k + 1 of nMels + 2 between fMin and fMax), and a colour bar in dB from the clip's maximum
 * down `dynamicRangeDb`. `id` makes the colour bar's gradient id unique within a page.
 */
export function spectrogramFigureSvg(
  spectrogram: SpectrogramLike,
  axes: SpectrogramAxes,
  options: { id: string; dynamicRangeDb?: number },
): string {
  const range = options.dynamicRangeDb ?? 80;
  const png = spectrogramPng(spectrogram, { dynamicRangeDb: range });
  const { nMels, frames } = spectrogram;
  const [sx, sy] = [2, 2];
  const [width, height] = [frames * sx, nMels * sy];
  const x0 = MARGIN.left;
  const y0 = MARGIN.top;
  const parts: string[] = [];
  const text = (x: number, y: number, anchor: string, body: string, extra = '') =>
    parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}"${extra}>${body}</text>`);
  const tick = (x1: number, y1: number, x2: number, y2: number) =>
    parts.push(`<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="#333"/>`);

  const base64 = Buffer.from(png).toString('base64');
  parts.push(
    `<image x="${x0}" y="${y0}" width="${width}" height="${height}" style="image-rendering:pixelated" href="data:image/png;base64,${base64}"/>`,
  );
  parts.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#333"/>`);

  const secondsPerFrame = axes.hopLength / axes.sampleRateHz;
  const durationS = (frames - 1) * secondsPerFrame;
  const step = TIME_STEPS_S.find((s) => durationS / s <= 6) ?? 60;
  for (let t = 0; t <= durationS + 1e-9; t += step) {
    const x = x0 + (t / secondsPerFrame + 0.5) * sx;
    tick(x, y0 + height, x, y0 + height + 4);
    text(x, y0 + height + 14, 'middle', `${Number(t.toFixed(2))}`);
  }
  text(x0 + width / 2, y0 + height + 30, 'middle', 'time (s)');

  const scale = HERTZ_TO_MEL[axes.melScale];
  const melMin = scale.toMel(axes.fMinHz);
  const melStep = (scale.toMel(axes.fMaxHz) - melMin) / (nMels + 1);
  let lastY = Number.POSITIVE_INFINITY;
  for (const hz of FREQUENCY_TICKS_HZ.filter((f) => f >= axes.fMinHz && f <= axes.fMaxHz)) {
    const band = Math.min(nMels, Math.max(0, (scale.toMel(hz) - melMin) / melStep - 0.5));
    const y = y0 + height - band * sy;
    if (lastY - y < 12) continue;
    lastY = y;
    tick(x0 - 4, y, x0, y);
    text(x0 - 6, y + 3.5, 'end', hz >= 1000 ? `${hz / 1000} kHz` : `${hz} Hz`);
  }
  text(12, y0 + height / 2, 'middle', 'frequency (mel bands)', ` transform="rotate(-90 12 ${(y0 + height / 2).toFixed(1)})"`);

  let max = Number.NEGATIVE_INFINITY;
  for (const v of spectrogram.data) if (Number.isFinite(v) && v > max) max = v;
  const barX = x0 + width + 12;
  const stops = Array.from({ length: 11 }, (_, k) => {
    const [r, g, b] = viridis(1 - k / 10);
    return `<stop offset="${k * 10}%" stop-color="rgb(${r},${g},${b})"/>`;
  }).join('');
  parts.push(`<defs><linearGradient id="${options.id}" x1="0" y1="0" x2="0" y2="1">${stops}</linearGradient></defs>`);
  parts.push(`<rect x="${barX}" y="${y0}" width="12" height="${height}" fill="url(#${options.id})" stroke="#333"/>`);
  for (const k of [0, 0.5, 1]) {
    const y = y0 + k * height;
    tick(barX + 12, y, barX + 16, y);
    text(barX + 18, y + 3.5, 'start', `${(max - k * range).toFixed(0)} dB`);
  }

  const [w, h] = [MARGIN.left + width + MARGIN.right, MARGIN.top + height + MARGIN.bottom];
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="10">` +
    `${parts.join('')}</svg>`
  );
}
