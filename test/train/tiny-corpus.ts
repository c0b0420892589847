/**
 * A tiny real data set for training tests: the 12 CREMA-D sample clips of the embedded corpus (assets/corpus/crema-d:
 * 2 actors x 6 emotions, Opus) as
 * 1-second log-mel images on the small model's 64-mel front end, and a small CNN-TM config (the golden's
 * small config: 64 mels, d_model 64, 2 layers, 4 heads, ff 128) sized for them.
 */
import { loadCorpus } from '../../src/data/corpus.js';
import { extractFeatures } from '../../src/data/index.js';
import type { CnnTmConfig } from '../../src/model/config.js';
import type { LabeledFeatures } from '../../src/train/loop.js';
import { modelFor } from '../../src/train/presets.js';
import { assetPath } from '../../src/io/paths.js';

export const cremaSampleDir = assetPath('corpus', 'crema-d');
export const TINY_DURATION_S = 1;

export interface TinyData {
  model: CnnTmConfig;
  all: LabeledFeatures;
  labels: string[];
  paths: string[];
}

let cached: Promise<TinyData> | null = null;

/** The 12 clips as one set (features computed once per test process, no cache on disk). */
export function tinyData(): Promise<TinyData> {
  cached ??= (async () => {
    const corpus = loadCorpus({ dataset: 'crema-d', path: cremaSampleDir });
    const { model, frontEnd } = modelFor('small', corpus.labels.length, TINY_DURATION_S);
    const extracted = await extractFeatures(corpus.utterances, { frontEnd, durationS: TINY_DURATION_S, cacheDir: null });
    if (extracted.failed.length > 0) throw new Error(`tiny corpus: ${extracted.failed.length} clips failed to decode`);
    const y = Int32Array.from(extracted.kept, (u) => corpus.labels.indexOf(u.label));
    return { model, all: { x: extracted.features, y }, labels: corpus.labels, paths: extracted.kept.map((u) => u.path) };
  })();
  return cached;
}
