/**
 * Datasets: corpus readers (CREMA-D, RAVDESS, nEMO, EMOVO, URDU, Korean emotiontts, class folders, CSV manifest)
 * -> Utterance lists with explicit label sets, seeded train/validation/test splits saved as JSON, and cached
 * log-mel features.
 *
 *   const corpus = loadCorpus({ dataset: 'ravdess', path: '../shared/data/ravdess', labels: 'six' });
 *   const split = makeSplit('speaker', corpus.utterances, { seed: 1, labels: corpus.labels });
 *   saveSplit('run/split.json', split);
 *   const parts = applySplit(split, corpus.utterances);
 *   const train = await extractFeatures(parts.train, { durationS: 3 });   // [N, 128, 188]
 */
export {
  AUDIO_EXTENSIONS,
  CORPUS_NAMES,
  type Corpus,
  type CorpusName,
  type LoadCorpusOptions,
  type Utterance,
  labelIndices,
  listAudioFiles,
  loadCorpus,
  readCremaDDemographics,
} from './corpus.js';
export {
  type NameParse,
  parseCremaDName,
  parseEmovoName,
  parseKoreanEmotionTtsName,
  parseLabelFolder,
  parseNemoName,
  parseRavdessName,
  parseUrduName,
} from './file-names.js';
export {
  CREMA_D_LABELS,
  EMOTION_SYNONYMS,
  EMOVO_LABELS,
  KOREAN_EMOTIONTTS_LABELS,
  type LabelMapping,
  NEMO_LABELS,
  RAVDESS_LABELS,
  URDU_LABELS,
  canonicalEmotion,
  identityMapping,
  mappingOnto,
  parseLabelSpec,
} from './labels.js';
export {
  PART_NAMES,
  type PartName,
  type Split,
  type SplitOptions,
  type SplitParts,
  type SplitProtocol,
  allocateProportionally,
  applySplit,
  adoptSplit,
  loadSplit,
  makeSplit,
  partSizes,
  randomStratifiedSplit,
  saveSplit,
  speakerDisjointSplit,
} from './splits.js';
export {
  type ExtractOptions,
  type ExtractedFeatures,
  type ExtractUtteranceOptions,
  type ExtractedUtterances,
  type SkippedFile,
  defaultCacheDir,
  extractFeatures,
  extractUtteranceLogMels,
  summarizeFailures,
} from './feature-cache.js';
export { csvField, parseCsv, parseCsvRecords } from './csv.js';
export { type Random, epochSeed, mixSeed, mulberry32, permutation, shuffleInPlace } from './prng.js';
