/**
 * Training batches from whole utterances, with on-the-fly augmentation: every training step sees new windows
 * of the same recordings. All of it works on the cached log-mels (no audio is decoded or transformed again), so it
 * costs a few milliseconds per batch beside a ~300 ms training step.
 *
 * Per clip, in this order (each optional, probabilities and ranges in AugmentConfig):
 *   1. speed perturbation by a factor s (Ko et al. 2015, "Audio augmentation for speech recognition"), applied to the
 *      mel image: time is resampled (frame j reads input frame j s) and frequency is scaled (band m, centre f_m,
 *      reads the input at f_m / s on the mel axis), bilinear interpolation in dB. Speeding audio up by s scales
 *      every frequency by s and every duration by 1 / s; on the mel image this is exact up to interpolation and
 *      the STFT's fixed window.
 *   1b. vocal tract length perturbation (VTLP; Jaitly and Hinton 2013, "Vocal Tract Length Perturbation (VTLP)
 *      improves speech recognition"): the frequency part of step 1 alone, band m reading the input at f_m / w on the
 *      mel axis, time unchanged: a speaker with a vocal tract 1 / w as long, same pitch contour timing. (The paper
 *      warps piecewise-linearly to keep the band edge; here frequencies above fMax / w read the top band.)
 *   2. the window: a random offset in the speech span (utterance.ts; else offset 0, as at inference). With
 *      `untrimmed`, with its probability the span is the whole recording instead, so the pauses before, between and
 *      after the words stay in the window; with step 3's noise they become stretches of noise alone, which is what
 *      a recording with a steady noise floor gives at inference, where trimming at loudest - trimDb keeps them
 *      (RESULTS.md, "Steady background noise"). Step 3's SNR is over the whole window, pauses included, so in such a
 *      window the speech stands somewhat further above the noise than the drawn SNR says.
 *   3. additive noise at a random SNR, in the power domain: P = P_speech + g P_noise with g set so that
 *      mean(P_speech) / mean(g P_noise) = 10^(SNR / 10) over the window. Noise: white, pink or brown noise made
 *      by the front end from seeded Gaussian noise, or babble (another training utterance). Adding mel powers is
 *      the expectation of adding waveforms of independent signals (the cross term averages to zero).
 *   3b. a random channel (telephone lines, VoIP codecs, cheap microphones keep a band of the spectrum): the
 *      window's power in band m times |H(f_m)|^2, H a Butterworth low-pass (cut-off uniform in [lowPassMinHz,
 *      lowPassMaxHz]) times a Butterworth high-pass (cut-off uniform in [0, highPassMaxHz]) of order `order`,
 *      |H_lp(f)|^2 = 1 / (1 + (f / f_c)^(2n)) and |H_hp(f)|^2 = 1 / (1 + (f_c / f)^(2n)) (Butterworth 1930), at
 *      each band's centre f_m, the gain floored at AMIN's -100 dB. Applied after the noise, as a line filters what
 *      the microphone picked up. With `brickWall` the limit of order -> infinity: bands outside the pass band lose
 *      100 dB, which puts them on the top_db floor (unless they were over 20 dB louder than the whole pass band), as
 *      after a resampler's anti-aliasing filter (8 kHz telephone audio has no band above 4 kHz). Per-band input
 *      normalisation undoes any fixed gain of a band that stays above the top_db floor, so only bands pushed to
 *      the floor change what the model sees (RESULTS.md, "Telephone speech").
 *   4. the top_db clamp (as every model input), then the speaker's band normalisation when the recipe has it
 *      (features/speaker-norm.ts).
 *   5. SpecAugment (Park et al. 2019): frequency and time masks set to the window's mean dB.
 * Per batch:
 *   6. mixup (Zhang et al. 2018): x_i = l x_i + (1 - l) x_p(i) and the same for the targets, l = max(b, 1 - b),
 *      b ~ Beta(alpha, alpha), p a random permutation of the batch.
 *   7. label smoothing (Szegedy et al. 2016): t = (1 - e) t + e / C.
 *   8. loss weights: each target row times its utterance's weight (class or corpus balancing by the loss).
 * With `corpora` (corpus-adversarial training, model/corpus-head.ts) each target row is the class distribution
 * followed by the corpus one (one-hot of the utterance's corpus); mixup mixes both parts, label smoothing touches
 * the classes only, loss weights scale both.
 * Randomness: one mulberry32 stream per (seed, epoch, batch index), so a resumed run sees the same batches.
 */
import { mixSeed, mulberry32, type Random } from '../data/prng.js';
import { SerError } from '../errors.js';
import { AMIN, type FrontEndConfig, LogMelFrontEnd, type Spectrogram, clampTopDb, maxOffset, windowLogMel } from '../features/index.js';
import { HERTZ_TO_MEL } from '../features/mel.js';
import { type BandNormalizer, normalizeBands } from '../features/speaker-norm.js';
import type { InputPolicy } from '../features/utterance.js';

/** What augmentation a training run uses; null / 0 / false turns a step off. */
export interface AugmentConfig {
  /** Random window offsets in the speech span (else the inference window at offset 0). */
  randomCrop: boolean;
  /** Speed perturbation with this probability, factor uniform in [min, max]. */
  speed: { probability: number; min: number; max: number } | null;
  /** Vocal tract length perturbation with this probability, warp factor uniform in [min, max]; absent: none. */
  vtlp?: { probability: number; min: number; max: number } | null;
  /** Windows from the whole recording instead of the speech span with this probability (step 2); absent: never. */
  untrimmed?: { probability: number } | null;
  /** Additive noise with this probability, SNR uniform in [snrDbMin, snrDbMax] dB, kinds drawn uniformly. */
  noise: { probability: number; snrDbMin: number; snrDbMax: number; kinds: NoiseKind[] } | null;
  /** A random band-limiting channel with this probability (module comment, step 3b); absent: none. */
  channel?: {
    probability: number;
    lowPassMinHz: number;
    lowPassMaxHz: number;
    highPassMaxHz: number;
    order: number;
    /** Bands outside the pass band lose 100 dB (the limit order -> infinity; `order` unused); absent: false. */
    brickWall?: boolean;
  } | null;
  /** SpecAugment: masks per clip and their largest widths (mel bands, frames). */
  specAugment: { freqMasks: number; maxFreqWidth: number; timeMasks: number; maxTimeWidth: number } | null;
  /** Mixup with Beta(alpha, alpha) weights, applied to a batch with this probability. */
  mixup: { alpha: number; probability: number } | null;
  /** Label smoothing e (0: none). */
  labelSmoothing: number;
}

export type NoiseKind = 'white' | 'pink' | 'brown' | 'babble';
export const NOISE_KINDS: readonly NoiseKind[] = ['white', 'pink', 'brown', 'babble'];

/** No augmentation: every clip is its inference window, plain one-hot targets. */
export const NO_AUGMENTATION: AugmentConfig = Object.freeze({
  randomCrop: false,
  speed: null,
  noise: null,
  specAugment: null,
  mixup: null,
  labelSmoothing: 0,
});

/** Throws EARG naming every invalid field. */
export function checkAugmentConfig(config: AugmentConfig): AugmentConfig {
  const problems: string[] = [];
  const probability = (name: string, p: number) => {
    if (!(p >= 0 && p <= 1)) problems.push(`${name} probability must be in [0, 1] (${p} given)`);
  };
  for (const [name, factors] of [
    ['speed', config.speed],
    ['vtlp', config.vtlp],
  ] as const) {
    if (!factors) continue;
    probability(name, factors.probability);
    if (!(factors.min > 0 && factors.min <= factors.max)) {
      problems.push(`${name} factors must satisfy 0 < min <= max (${factors.min}, ${factors.max} given)`);
    }
  }
  if (config.untrimmed) probability('untrimmed', config.untrimmed.probability);
  if (config.noise) {
    probability('noise', config.noise.probability);
    if (!(config.noise.snrDbMin <= config.noise.snrDbMax))
      problems.push(`noise SNR range [${config.noise.snrDbMin}, ${config.noise.snrDbMax}] is empty`);
    const unknown = config.noise.kinds.filter((kind) => !NOISE_KINDS.includes(kind));
    if (config.noise.kinds.length === 0 || unknown.length > 0) problems.push(`noise kinds must be some of ${NOISE_KINDS.join(', ')}`);
  }
  if (config.channel) {
    const { probability: p, lowPassMinHz, lowPassMaxHz, highPassMaxHz, order } = config.channel;
    probability('channel', p);
    if (!(lowPassMinHz > 0 && lowPassMinHz <= lowPassMaxHz))
      problems.push(`channel low-pass cut-offs must satisfy 0 < lowPassMinHz <= lowPassMaxHz (${lowPassMinHz}, ${lowPassMaxHz} given)`);
    if (!(highPassMaxHz >= 0 && highPassMaxHz < lowPassMinHz))
      problems.push(`channel highPassMaxHz must be in [0, lowPassMinHz) (${highPassMaxHz} given)`);
    if (!(Number.isInteger(order) && order >= 1)) problems.push(`channel order must be an integer >= 1 (${order} given)`);
    const brickWall = config.channel.brickWall;
    if (brickWall !== undefined && typeof brickWall !== 'boolean')
      problems.push(`channel brickWall must be true or false ('${brickWall}' given)`);
  }
  if (config.specAugment) {
    const { freqMasks, maxFreqWidth, timeMasks, maxTimeWidth } = config.specAugment;
    if (![freqMasks, maxFreqWidth, timeMasks, maxTimeWidth].every((v) => Number.isInteger(v) && v >= 0)) {
      problems.push('SpecAugment mask counts and widths must be integers >= 0');
    }
  }
  if (config.mixup) {
    probability('mixup', config.mixup.probability);
    if (!(config.mixup.alpha > 0)) problems.push(`mixup alpha must be > 0 (${config.mixup.alpha} given)`);
  }
  if (!(config.labelSmoothing >= 0 && config.labelSmoothing < 1))
    problems.push(`label smoothing must be in [0, 1) (${config.labelSmoothing} given)`);
  if (problems.length > 0) throw new SerError('EARG', 'augment', `invalid augmentation: ${problems.join('; ')}`);
  return config;
}

/** The training utterances a BatchMaker draws from. */
export interface TrainingUtterances {
  /** Unclamped log-mel dB [nMels, T_i] of each utterance (feature-cache.ts extractUtteranceLogMels). */
  readonly logMels: readonly Spectrogram[];
  /** Speech span of each (utterance.ts speechSpan). */
  readonly spans: ReadonlyArray<{ start: number; end: number }>;
  /** Class index of each. */
  readonly labels: Int32Array;
  /** Loss weight of each (class or corpus balancing); absent: 1. */
  readonly weights?: Float32Array;
  /** Speaker-level band normalisation of each (features/speaker-norm.ts), after the clamp; absent: none. */
  readonly normalizers?: readonly BandNormalizer[];
  /** Corpus index of each (0 .. BatchMakerOptions.corpora - 1), for corpus targets; absent: none. */
  readonly corpora?: Int32Array;
}

export interface BatchMakerOptions {
  /** Window length in frames (the model's input). */
  frames: number;
  nClasses: number;
  /** The front end (its topDb is the window clamp; the rest places mel bands and makes the noise). */
  frontEnd: FrontEndConfig;
  policy: InputPolicy;
  augment: AugmentConfig;
  seed: number;
  /** Append each utterance's corpus (one-hot over this many) to its target row; needs TrainingUtterances.corpora. */
  corpora?: number;
}

/** Fills training batches (see the module comment). */
export class BatchMaker {
  private readonly data: TrainingUtterances;
  private readonly options: BatchMakerOptions;
  private readonly nMels: number;
  /** Centre of each mel band on the mel axis, and the axis's first edge and band spacing. */
  private readonly melAxis: { centres: Float64Array; first: number; step: number };
  private noise: Map<NoiseKind, Spectrogram> | null = null;
  /** Centre frequency of each mel band in Hz (the channel step). */
  private readonly bandCentresHz: Float64Array;

  constructor(data: TrainingUtterances, options: BatchMakerOptions) {
    const n = data.logMels.length;
    if (data.spans.length !== n || data.labels.length !== n || (data.weights && data.weights.length !== n)) {
      throw new SerError(
        'EARG',
        'augment',
        `training utterances: ${n} log-mels but ${data.spans.length} spans, ${data.labels.length} labels`,
      );
    }
    checkAugmentConfig(options.augment);
    const corpora = options.corpora;
    if (corpora !== undefined && !(data.corpora?.length === n && data.corpora.every((c) => c >= 0 && c < corpora))) {
      throw new SerError('EARG', 'augment', `corpus targets need a corpus index in 0..${corpora - 1} for each of the ${n} utterances`);
    }
    this.data = data;
    this.options = options;
    this.nMels = options.frontEnd.nMels;
    this.melAxis = melAxisOf(options.frontEnd);
    const scale = HERTZ_TO_MEL[options.frontEnd.melScale];
    this.bandCentresHz = this.melAxis.centres.map((mel) => scale.toHz(mel));
  }

  /** Utterances to draw from. */
  get count(): number {
    return this.data.logMels.length;
  }

  /** Values per target row: the classes, then the corpora when corpus targets are on. */
  get targetWidth(): number {
    return this.options.nClasses + (this.options.corpora ?? 0);
  }

  /**
   * Batch `batchIndex` of `epoch`: the clips of utterances `indices` into x [B, nMels, frames] and their targets
   * [B, targetWidth] (see the module comment).
   */
  fill(indices: ArrayLike<number>, epoch: number, batchIndex: number, x: Float32Array, targets: Float32Array): void {
    const { frames, nClasses, augment } = this.options;
    const width = this.targetWidth;
    const batch = indices.length;
    const size = this.nMels * frames;
    if (x.length !== batch * size || targets.length !== batch * width) {
      throw new SerError(
        'ESHAPE',
        'augment',
        `batch buffers hold ${x.length} and ${targets.length} values; ${batch} clips need ${batch * size} and ${batch * width}`,
      );
    }
    const random = mulberry32(mixSeed(mixSeed(this.options.seed ^ 0x41554721, epoch), batchIndex));
    targets.fill(0);
    for (let i = 0; i < batch; i++) {
      const u = indices[i] as number;
      this.clip(u, random, x.subarray(i * size, (i + 1) * size));
      targets[i * width + (this.data.labels[u] as number)] = 1;
      if (this.data.corpora && width > nClasses) targets[i * width + nClasses + (this.data.corpora[u] as number)] = 1;
    }
    if (augment.mixup && random() < augment.mixup.probability) mixup(x, targets, batch, augment.mixup.alpha, random);
    if (augment.labelSmoothing > 0) {
      const e = augment.labelSmoothing;
      for (let i = 0; i < batch; i++)
        for (let c = 0; c < nClasses; c++) targets[i * width + c] = (1 - e) * (targets[i * width + c] as number) + e / nClasses;
    }
    if (this.data.weights) {
      for (let i = 0; i < batch; i++) {
        const w = this.data.weights[indices[i] as number] as number;
        for (let c = 0; c < width; c++) targets[i * width + c]! *= w;
      }
    }
  }

  /** One augmented window of utterance `u` into `out` [nMels, frames]. */
  private clip(u: number, random: Random, out: Float32Array): void {
    const { frames, augment, policy, frontEnd } = this.options;
    let logMel = this.data.logMels[u] as Spectrogram;
    const untrimmed = augment.untrimmed ? random() < augment.untrimmed.probability : false;
    let span = untrimmed ? { start: 0, end: logMel.frames } : (this.data.spans[u] as { start: number; end: number });
    if (augment.speed && random() < augment.speed.probability) {
      const factor = augment.speed.min + (augment.speed.max - augment.speed.min) * random();
      logMel = rescaleLogMel(logMel, { frequency: factor, time: factor }, this.melAxis, this.options.frontEnd);
      const start = Math.min(Math.floor(span.start / factor), logMel.frames - 1);
      span = { start, end: Math.min(Math.max(Math.ceil(span.end / factor), start + 1), logMel.frames) };
    }
    if (augment.vtlp && random() < augment.vtlp.probability) {
      const factor = augment.vtlp.min + (augment.vtlp.max - augment.vtlp.min) * random();
      logMel = rescaleLogMel(logMel, { frequency: factor, time: 1 }, this.melAxis, this.options.frontEnd);
    }
    const offset = augment.randomCrop ? Math.floor(random() * (maxOffset(span.end - span.start, frames, policy.fill) + 1)) : 0;
    windowLogMel(logMel, span, frames, offset, { fill: policy.fill, topDb: null, out });
    if (augment.noise && random() < augment.noise.probability) {
      const { snrDbMin, snrDbMax, kinds } = augment.noise;
      const kind = kinds[Math.floor(random() * kinds.length)] as NoiseKind;
      const snrDb = snrDbMin + (snrDbMax - snrDbMin) * random();
      addNoise(out, this.noiseWindow(kind, random, u), snrDb);
    }
    if (augment.channel && random() < augment.channel.probability) {
      const { lowPassMinHz, lowPassMaxHz, highPassMaxHz, order, brickWall } = augment.channel;
      const lowPassHz = lowPassMinHz + (lowPassMaxHz - lowPassMinHz) * random();
      const highPassHz = highPassMaxHz * random();
      applyChannel(out, channelGainsDb(this.bandCentresHz, { lowPassHz, highPassHz, order: brickWall ? Infinity : order }), frames);
    }
    if (frontEnd.topDb !== null) clampTopDb(out, frontEnd.topDb);
    if (this.data.normalizers) normalizeBands(out, this.data.normalizers[u] as BandNormalizer, frames);
    if (augment.specAugment) specAugment(out, this.nMels, frames, augment.specAugment, random);
  }

  /** A window of noise of `kind` [nMels, frames] in dB (babble: a window of another training utterance). */
  private noiseWindow(kind: NoiseKind, random: Random, self: number): Float32Array {
    const { frames } = this.options;
    if (kind === 'babble') {
      const n = this.count;
      const other = n > 1 ? (self + 1 + Math.floor(random() * (n - 1))) % n : self;
      const span = this.data.spans[other] as { start: number; end: number };
      const offset = Math.floor(random() * (maxOffset(span.end - span.start, frames, 'repeat') + 1));
      return windowLogMel(this.data.logMels[other] as Spectrogram, span, frames, offset, { fill: 'repeat', topDb: null });
    }
    this.noise ??= noiseBank(this.options.frontEnd, this.options.seed);
    const noise = this.noise.get(kind) as Spectrogram;
    const offset = Math.floor(random() * noise.frames);
    return windowLogMel(noise, { start: 0, end: noise.frames }, frames, offset, { fill: 'repeat', topDb: null });
  }
}

/** The mel axis of `frontEnd`: each band's centre, the axis's first edge and the band spacing, in mels. */
export function melAxisOf(frontEnd: FrontEndConfig): { centres: Float64Array; first: number; step: number } {
  const scale = HERTZ_TO_MEL[frontEnd.melScale];
  const first = scale.toMel(frontEnd.fMinHz);
  const step = (scale.toMel(frontEnd.fMaxHz) - first) / (frontEnd.nMels + 1);
  return { centres: Float64Array.from({ length: frontEnd.nMels }, (_, m) => first + (m + 1) * step), first, step };
}

/**
 * `logMel` with every frequency scaled by `factors.frequency` and every duration by 1 / `factors.time` (see the
 * module comment, steps 1 and 1b): output band m reads the input at f_m / frequency, output frame j at j time,
 * bilinear in dB. `melAxis`: melAxisOf(frontEnd).
 */
export function rescaleLogMel(
  logMel: Spectrogram,
  factors: { frequency: number; time: number },
  melAxis: { centres: Float64Array; first: number; step: number },
  frontEnd: FrontEndConfig,
): Spectrogram {
  const { data, nMels, frames } = logMel;
  const outFrames = Math.max(1, Math.round(frames / factors.time));
  const scale = HERTZ_TO_MEL[frontEnd.melScale];
  const { centres, first, step } = melAxis;
  // Source band (fractional) of each output band: the mel position of f_m / frequency.
  const source = new Float64Array(nMels);
  for (let m = 0; m < nMels; m++) {
    const position = (scale.toMel(scale.toHz(centres[m] as number) / factors.frequency) - first) / step - 1;
    source[m] = Math.min(Math.max(position, 0), nMels - 1);
  }
  const out = new Float32Array(nMels * outFrames);
  for (let m = 0; m < nMels; m++) {
    const m0 = Math.floor(source[m] as number);
    const m1 = Math.min(m0 + 1, nMels - 1);
    const a = (source[m] as number) - m0;
    const row0 = m0 * frames;
    const row1 = m1 * frames;
    for (let j = 0; j < outFrames; j++) {
      const t = Math.min(j * factors.time, frames - 1);
      const t0 = Math.floor(t);
      const t1 = Math.min(t0 + 1, frames - 1);
      const b = t - t0;
      const low = (1 - b) * (data[row0 + t0] as number) + b * (data[row0 + t1] as number);
      const high = (1 - b) * (data[row1 + t0] as number) + b * (data[row1 + t1] as number);
      out[m * outFrames + j] = (1 - a) * low + a * high;
    }
  }
  return { data: out, nMels, frames: outFrames };
}

/** ln(10) / 10: dB to power is exp(dB * DB_TO_NEPER) (Math.exp is several times faster than 10 ** x). */
const DB_TO_NEPER = Math.LN10 / 10;

/** `window` (dB) plus `noise` (dB) scaled to `snrDb` below the window's mean power, in the power domain, in place. */
export function addNoise(window: Float32Array, noise: Float32Array, snrDb: number): void {
  if (noise.length !== window.length)
    throw new SerError('ESHAPE', 'augment', `noise holds ${noise.length} values, the window ${window.length}`);
  const speech = new Float32Array(window.length);
  const added = new Float32Array(window.length);
  let signal = 0;
  let noisePower = 0;
  for (let i = 0; i < window.length; i++) {
    signal += speech[i] = Math.exp((window[i] as number) * DB_TO_NEPER);
    noisePower += added[i] = Math.exp((noise[i] as number) * DB_TO_NEPER);
  }
  if (!(noisePower > 0 && signal > 0)) return;
  const gain = signal / (noisePower * Math.exp(snrDb * DB_TO_NEPER));
  for (let i = 0; i < window.length; i++) {
    window[i] = Math.log(Math.max((speech[i] as number) + gain * (added[i] as number), AMIN)) / DB_TO_NEPER;
  }
}

/**
 * The gain in dB of a channel at each band centre (module comment, step 3b): a Butterworth low-pass at `lowPassHz`
 * times a high-pass at `highPassHz` (0: none), both of order `order` (Infinity: a brick wall, 0 dB inside the pass
 * band, AMIN's -100 dB outside); never below AMIN's -100 dB.
 */
export function channelGainsDb(
  centresHz: ArrayLike<number>,
  channel: { lowPassHz: number; highPassHz: number; order: number },
): Float32Array {
  const { lowPassHz, highPassHz, order } = channel;
  return Float32Array.from({ length: centresHz.length }, (_, m) => {
    const f = centresHz[m] as number;
    if (order === Number.POSITIVE_INFINITY) return f <= lowPassHz && f >= highPassHz ? 0 : Math.log(AMIN) / DB_TO_NEPER;
    const lowPass = 1 / (1 + (f / lowPassHz) ** (2 * order));
    const highPass = highPassHz > 0 ? 1 / (1 + (highPassHz / Math.max(f, 1e-9)) ** (2 * order)) : 1;
    return Math.log(Math.max(lowPass * highPass, AMIN)) / DB_TO_NEPER;
  });
}

/** `window` [nMels, frames] (dB) through a channel of band gains `gainsDb` (channelGainsDb), in place. */
export function applyChannel(window: Float32Array, gainsDb: Float32Array, frames: number): void {
  if (window.length !== gainsDb.length * frames)
    throw new SerError('ESHAPE', 'augment', `channel gains for ${gainsDb.length} bands, window of ${window.length} values`);
  for (let m = 0; m < gainsDb.length; m++) {
    const gain = gainsDb[m] as number;
    for (let j = m * frames; j < (m + 1) * frames; j++) window[j] = (window[j] as number) + gain;
  }
}

/** SpecAugment's frequency and time masks on `window` [nMels, frames] (dB), set to its mean, in place. */
export function specAugment(
  window: Float32Array,
  nMels: number,
  frames: number,
  config: NonNullable<AugmentConfig['specAugment']>,
  random: Random,
): void {
  let mean = 0;
  for (let i = 0; i < window.length; i++) mean += window[i] as number;
  mean /= window.length;
  for (let k = 0; k < config.freqMasks; k++) {
    const width = Math.floor(random() * (Math.min(config.maxFreqWidth, nMels) + 1));
    const start = Math.floor(random() * (nMels - width + 1));
    window.fill(mean, start * frames, (start + width) * frames);
  }
  for (let k = 0; k < config.timeMasks; k++) {
    const width = Math.floor(random() * (Math.min(config.maxTimeWidth, frames) + 1));
    const start = Math.floor(random() * (frames - width + 1));
    for (let m = 0; m < nMels; m++) window.fill(mean, m * frames + start, m * frames + start + width);
  }
}

/** Mixup of a batch in place (see the module comment, step 6). */
function mixup(x: Float32Array, targets: Float32Array, batch: number, alpha: number, random: Random): void {
  const size = x.length / batch;
  const classes = targets.length / batch;
  const partner = Array.from({ length: batch }, (_, i) => i);
  for (let i = batch - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [partner[i], partner[j]] = [partner[j] as number, partner[i] as number];
  }
  const originalX = x.slice();
  const originalT = targets.slice();
  for (let i = 0; i < batch; i++) {
    const draw = betaSample(alpha, random);
    const l = Math.max(draw, 1 - draw);
    const p = partner[i] as number;
    for (let k = 0; k < size; k++)
      x[i * size + k] = l * (originalX[i * size + k] as number) + (1 - l) * (originalX[p * size + k] as number);
    for (let c = 0; c < classes; c++) {
      targets[i * classes + c] = l * (originalT[i * classes + c] as number) + (1 - l) * (originalT[p * classes + c] as number);
    }
  }
}

/** A standard normal draw (Box-Muller). */
function normalSample(random: Random): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) (Marsaglia and Tsang 2000; shape < 1 by Gamma(shape + 1) U^(1 / shape)). */
function gammaSample(shape: number, random: Random): number {
  if (shape < 1) return gammaSample(shape + 1, random) * (1 - random()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normalSample(random);
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, a) as G1 / (G1 + G2). */
export function betaSample(a: number, random: Random): number {
  const g1 = gammaSample(a, random);
  const g2 = gammaSample(a, random);
  return g1 + g2 > 0 ? g1 / (g1 + g2) : 0.5;
}

/** Seconds of each generated noise. */
const NOISE_SECONDS = 8;

/**
 * White, pink and brown noise waveforms of `length` samples from seeded Gaussian noise: white as drawn; pink (1/f
 * power) by Paul Kellet's economy filter; brown (1/f^2) by a leaky integrator.
 */
export function noiseWaveforms(length: number, random: Random): Record<'white' | 'pink' | 'brown', Float32Array> {
  const white = Float32Array.from({ length }, () => normalSample(random));
  const pink = new Float32Array(length);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < length; i++) {
    const w = white[i] as number;
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    pink[i] = b0 + b1 + b2 + w * 0.1848;
  }
  const brown = new Float32Array(length);
  let level = 0;
  for (let i = 0; i < length; i++) {
    level = 0.995 * level + (white[i] as number) * 0.1;
    brown[i] = level;
  }
  return { white, pink, brown };
}

/** The noiseWaveforms of NOISE_SECONDS through the front end (unclamped dB log-mels). */
export function noiseBank(frontEnd: FrontEndConfig, seed: number): Map<NoiseKind, Spectrogram> {
  const random = mulberry32(mixSeed(seed, 0x6e6f6973));
  const { white, pink, brown } = noiseWaveforms(NOISE_SECONDS * frontEnd.sampleRateHz, random);
  const unclamped = new LogMelFrontEnd({ ...frontEnd, topDb: null });
  return new Map<NoiseKind, Spectrogram>([
    ['white', unclamped.logMel(white)],
    ['pink', unclamped.logMel(pink)],
    ['brown', unclamped.logMel(brown)],
  ]);
}
