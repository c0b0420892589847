/**
 * Model sizes and the embedded corpus: the choices `ser train` offers without a config file.
 * - 'paper': cnn_tm.py's defaults (128 mels, d_model 128, 6 layers, 4 heads, ff 512, dropout 0.4) on the paper's
 *   front end (DEFAULT_FRONT_END).
 * - 'small': the golden's small config (64 mels, d_model 64, 2 layers, 4 heads, ff 128) with the paper's dropout
 *   0.4, on the same front end with 64 mel bands: for quick runs and tests.
 */
import type { CorpusName } from '../data/corpus.js';
import { DEFAULT_FRONT_END, type FrontEndConfig, framesFor, resolveFrontEnd } from '../features/index.js';
import { assetPath } from '../io/paths.js';
import { type CnnTmConfig, PAPER_CNN_TM } from '../model/config.js';

export type ModelSize = 'paper' | 'small';

/** The model and front end of a size, for `nClasses` classes and clips of `durationS` seconds. */
export function modelFor(size: ModelSize, nClasses: number, durationS: number): { model: CnnTmConfig; frontEnd: FrontEndConfig } {
  const frontEnd = size === 'paper' ? DEFAULT_FRONT_END : resolveFrontEnd({ nMels: 64 });
  const frames = framesFor(durationS, frontEnd);
  const base = size === 'paper' ? PAPER_CNN_TM : { ...PAPER_CNN_TM, nMels: 64, dModel: 64, layers: 2, heads: 4, ffDim: 128 };
  return { model: { ...base, nClasses, frames }, frontEnd };
}

/** The small corpus shipped in assets/corpus (RAVDESS actors 01-06, 8 emotions; see its README for licences). */
export const EMBEDDED_CORPUS: { dataset: CorpusName; path: string } = { dataset: 'csv', path: assetPath('corpus', 'manifest.csv') };

/**
 * Defaults when training on the embedded corpus (the README's main job, minutes on 2 cores): the small model,
 * batches of 16 (226 training clips: 14 steps an epoch), lr 1e-3, dropout 0.1, 40 epochs, patience 10.
 * Explicit flags override them. Not the paper's lr 1e-4 and dropout 0.4: with those the small model stays at
 * chance on this corpus (the measurements: docs/benchmark-log.md, "Embedded-corpus defaults").
 */
export const EMBEDDED_DEFAULTS = { size: 'small' as ModelSize, epochs: 40, patience: 10, batchSize: 16, lr: 1e-3, dropout: 0.1 };
