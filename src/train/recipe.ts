/**
 * A training recipe: how utterances become model inputs (input policy, normalisation), how batches are augmented
 * and balanced. Stored in a run's config.json (`recipe`), so evaluation and every inference path use the same input
 * policy and normalisation as training.
 *
 * Named recipes (`ser train --recipe NAME`; flags override single fields):
 * - 'paper': the paper's pipeline: the first clip of each recording (cropped, zero-padded), no normalisation,
 *   no augmentation, no balancing;
 * - 'generalize': the recipe measured to help on speakers and corpora never seen in training (RESULTS.md, the
 *   speaker-disjoint ablations): silence trimmed, short speech repeated, random crops, speed perturbation,
 *   noise, SpecAugment, mixup, per-band normalisation, corpus-and-class balanced sampling, test-time crops.
 *   Vocal tract length perturbation (augment.vtlp) is not in it: a recipe file turns it on
 *   (bench/recipes/add-vtlp.json; RESULTS.md has what it was measured to do). Nor is a random band-limiting
 *   channel (augment.channel; bench/recipes/add-channel*.json; measured in RESULTS.md, "Telephone speech"), nor
 *   untrimmed windows (augment.untrimmed; bench/recipes/add-untrimmed-noise-floor.json, the shipped default model's
 *   fourth training cycle; RESULTS.md, "Untrimmed training windows"), measured only as a fine-tuning cycle.
 */
import { SerError } from '../errors.js';
import { FIRST_CLIP_POLICY, type InputPolicy, checkInputPolicy } from '../features/utterance.js';
import { INPUT_NORMS, type InputNorm } from '../model/config.js';
import { type AugmentConfig, NO_AUGMENTATION, checkAugmentConfig } from './augment.js';

/** How training balances classes and corpora: which groups get equal weight. */
export type Balance = 'none' | 'class' | 'corpus' | 'corpus-class';
export const BALANCES: readonly Balance[] = ['none', 'class', 'corpus', 'corpus-class'];

export interface Recipe {
  input: InputPolicy;
  inputNorm: InputNorm;
  /**
   * Speaker-level input normalisation (features/speaker-norm.ts), applied to the windows before the model's own
   * `inputNorm`; absent: off. Experimental: training and `ser train`'s evaluation support it, inference refuses it.
   */
  speakerNorm?: boolean;
  augment: AugmentConfig;
  balance: Balance;
  /** Balance by drawing utterances in proportion to their weights ('sampling') or by weighting their loss. */
  balanceBy: 'sampling' | 'loss';
}

export const PAPER_RECIPE: Recipe = Object.freeze({
  input: FIRST_CLIP_POLICY,
  inputNorm: 'none',
  augment: NO_AUGMENTATION,
  balance: 'none',
  balanceBy: 'sampling',
});

export const GENERALIZE_RECIPE: Recipe = Object.freeze({
  input: Object.freeze({ maxS: 12, trimDb: 40, fill: 'repeat', crops: 3 }),
  inputNorm: 'band',
  augment: Object.freeze({
    randomCrop: true,
    speed: { probability: 0.5, min: 0.9, max: 1.1 },
    noise: { probability: 0.5, snrDbMin: 5, snrDbMax: 30, kinds: ['white', 'pink', 'brown', 'babble'] },
    specAugment: { freqMasks: 2, maxFreqWidth: 12, timeMasks: 2, maxTimeWidth: 20 },
    mixup: { alpha: 0.4, probability: 0.5 },
    labelSmoothing: 0.1,
  }) as AugmentConfig,
  balance: 'corpus-class',
  balanceBy: 'sampling',
});

export const RECIPES: Readonly<Record<string, Recipe>> = Object.freeze({ paper: PAPER_RECIPE, generalize: GENERALIZE_RECIPE });

/** Throws EARG naming every invalid field. */
export function checkRecipe(recipe: Recipe): Recipe {
  checkInputPolicy(recipe.input);
  checkAugmentConfig(recipe.augment);
  const problems: string[] = [];
  if (!INPUT_NORMS.includes(recipe.inputNorm))
    problems.push(`inputNorm must be one of ${INPUT_NORMS.join(', ')} ('${recipe.inputNorm}' given)`);
  if (recipe.speakerNorm !== undefined && typeof recipe.speakerNorm !== 'boolean')
    problems.push(`speakerNorm must be true or false ('${recipe.speakerNorm}' given)`);
  if (!BALANCES.includes(recipe.balance)) problems.push(`balance must be one of ${BALANCES.join(', ')} ('${recipe.balance}' given)`);
  if (recipe.balanceBy !== 'sampling' && recipe.balanceBy !== 'loss')
    problems.push(`balanceBy must be sampling or loss ('${recipe.balanceBy}' given)`);
  if (problems.length > 0) throw new SerError('EARG', 'recipe', `invalid recipe: ${problems.join('; ')}`);
  return recipe;
}

/**
 * Each utterance's weight under `balance`, normalised to mean 1: 'class' 1 / n(class); 'corpus' 1 / n(corpus);
 * 'corpus-class' 1 / (n(corpus, class) * classes in the corpus), so every corpus weighs the same and, within
 * it, every class. `labels[i]` and `corpora[i]` are utterance i's class and corpus indices.
 */
export function balanceWeights(balance: Balance, labels: ArrayLike<number>, corpora: ArrayLike<number>): Float32Array {
  const n = labels.length;
  const key = (i: number): string =>
    balance === 'class' ? `${labels[i]}` : balance === 'corpus' ? `${corpora[i]}` : `${corpora[i]}/${labels[i]}`;
  const groupSize = new Map<string, number>();
  for (let i = 0; i < n; i++) groupSize.set(key(i), (groupSize.get(key(i)) ?? 0) + 1);
  const classesInCorpus = new Map<number, Set<number>>();
  for (let i = 0; i < n; i++) {
    const c = corpora[i] as number;
    if (!classesInCorpus.has(c)) classesInCorpus.set(c, new Set());
    classesInCorpus.get(c)?.add(labels[i] as number);
  }
  const raw = Float64Array.from({ length: n }, (_, i) => {
    if (balance === 'none') return 1;
    const w = 1 / (groupSize.get(key(i)) as number);
    return balance === 'corpus-class' ? w / (classesInCorpus.get(corpora[i] as number)?.size ?? 1) : w;
  });
  const mean = raw.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  return Float32Array.from(raw, (w) => w / mean);
}
