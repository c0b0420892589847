/**
 * The model inputs of a run's parts, from whole-utterance log-mels (feature-cache.ts extractUtteranceLogMels) and
 * its recipe: the training part as a TrainingSource (augmented batches from augment.ts, balanced by sampling or
 * by loss weights, and one clean window per utterance), validation and test as the inference windows of every
 * utterance (utterance.ts utteranceWindows: the same crops `ser predict` averages).
 */
import type { Spectrogram } from '../features/index.js';
import type { FrontEndConfig } from '../features/config.js';
import { type BandNormalizer, groupNormalizers, normalizeBands } from '../features/speaker-norm.js';
import { speechSpan, utteranceWindows, windowLogMel } from '../features/utterance.js';
import { BatchMaker } from './augment.js';
import type { EvaluationFeatures, TrainingSource } from './loop.js';
import { type Recipe, balanceWeights } from './recipe.js';

/** Utterances of one part: unclamped log-mels, class indices and corpus indices (for balancing). */
export interface PartUtterances {
  logMels: readonly Spectrogram[];
  labels: Int32Array;
  corpora: Int32Array;
  /** Speaker of each, unique across corpora ('' or absent: unknown), for the recipe's speaker normalisation. */
  speakers?: readonly string[];
}

export interface InputOptions {
  /** Frames of a model input. */
  frames: number;
  nClasses: number;
  frontEnd: FrontEndConfig;
  recipe: Recipe;
  seed: number;
  /** Corpus targets over this many corpora in the training rows (corpus-adversarial training); absent: none. */
  corpora?: number;
  /**
   * The adversarial head's target of each training utterance (0 .. corpora - 1) when it is not the corpus (speaker-
   * adversarial training: the speaker's index); absent: PartUtterances.corpora.
   */
  domains?: Int32Array;
}

/** The training part as a TrainingSource (see the module comment). */
export function trainingSource(part: PartUtterances, options: InputOptions): TrainingSource {
  const { recipe, frames, frontEnd } = options;
  const spans = part.logMels.map((logMel) => speechSpan(logMel, recipe.input.trimDb));
  const weights = recipe.balance === 'none' ? undefined : balanceWeights(recipe.balance, part.labels, part.corpora);
  const normalizers = speakerNormalizers(part, spans, options);
  const maker = new BatchMaker(
    {
      logMels: part.logMels,
      spans,
      labels: part.labels,
      ...(weights && recipe.balanceBy === 'loss' ? { weights } : {}),
      ...(normalizers ? { normalizers } : {}),
      ...(options.corpora !== undefined ? { corpora: options.domains ?? part.corpora } : {}),
    },
    {
      frames,
      nClasses: options.nClasses,
      frontEnd,
      policy: recipe.input,
      augment: recipe.augment,
      seed: options.seed,
      ...(options.corpora !== undefined ? { corpora: options.corpora } : {}),
    },
  );
  const size = frontEnd.nMels * frames;
  const clean = new Float32Array(part.logMels.length * size);
  part.logMels.forEach((logMel, i) => {
    windowLogMel(logMel, spans[i] as { start: number; end: number }, frames, 0, {
      fill: recipe.input.fill,
      topDb: frontEnd.topDb,
      out: clean.subarray(i * size, (i + 1) * size),
    });
    if (normalizers) normalizeBands(clean.subarray(i * size, (i + 1) * size), normalizers[i] as BandNormalizer, frames);
  });
  return {
    count: part.logMels.length,
    ...(options.corpora !== undefined ? { corpora: options.corpora } : {}),
    fill: (indices, epoch, batchIndex, x, targets) => maker.fill(indices, epoch, batchIndex, x, targets),
    clean: { x: clean, y: part.labels },
    ...(weights && recipe.balanceBy === 'sampling' ? { samplingWeights: weights } : {}),
  };
}

/** Every utterance's inference windows, grouped (EvaluationFeatures.windows). */
export function evaluationSet(
  part: Pick<PartUtterances, 'logMels' | 'labels' | 'speakers'>,
  options: Omit<InputOptions, 'nClasses' | 'seed'>,
): EvaluationFeatures {
  const perUtterance = part.logMels.map((logMel) => utteranceWindows(logMel, options.frames, options.recipe.input, options.frontEnd.topDb));
  const spans = options.recipe.speakerNorm ? part.logMels.map((logMel) => speechSpan(logMel, options.recipe.input.trimDb)) : [];
  const normalizers = speakerNormalizers(part, spans, options);
  if (normalizers)
    perUtterance.forEach((w, i) => {
      normalizeBands(w.windows, normalizers[i] as BandNormalizer, options.frames);
    });
  const size = options.frontEnd.nMels * options.frames;
  const total = perUtterance.reduce((sum, w) => sum + w.count, 0);
  const x = new Float32Array(total * size);
  let at = 0;
  for (const w of perUtterance) {
    x.set(w.windows, at);
    at += w.windows.length;
  }
  return { x, y: part.labels, windows: Int32Array.from(perUtterance, (w) => w.count) };
}

/**
 * Each utterance's speaker-level band normalizer when the recipe has speaker normalisation (statistics over the
 * speaker's utterances in this part: at test time, the unlabelled recordings of a speaker), else undefined.
 */
function speakerNormalizers(
  part: Pick<PartUtterances, 'logMels' | 'speakers'>,
  spans: ReadonlyArray<{ start: number; end: number }>,
  options: Pick<InputOptions, 'recipe' | 'frontEnd'>,
): BandNormalizer[] | undefined {
  if (!options.recipe.speakerNorm || part.logMels.length === 0) return undefined;
  const speakers = part.speakers ?? part.logMels.map(() => '');
  return groupNormalizers(part.logMels, spans, speakers, options.frontEnd.topDb);
}
