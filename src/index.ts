/**
 * speech-emotion: speech emotion recognition in TypeScript, the CNN-TM design (two parallel CNN blocks and a
 * Transformer encoder over torchaudio-exact log-mel spectrograms), trained and run on ONNX Runtime.
 *
 *   import { trainRun, predictFiles } from 'speech-emotion';
 *   await trainRun({ out: 'runs/ravdess', data: { dataset: 'ravdess', path: 'RAVDESS/' }, split: 'speaker', seed: 0 });
 *   const [p] = await predictFiles('runs/ravdess', ['call.wav']);   // { file, label, probabilities }
 *
 * The folders' own index.ts files (audio, features, graph, runtime, nn, model, data, train, eval) hold the
 * lower-level pieces; this is the surface most applications need.
 */
export { SerError, type SerErrorCode } from './errors.js';
export { type DecodedAudio, type LoadedAudio, decodeAudio, loadAudio, loadAudioBatch, resample, toMono } from './audio/index.js';
export { type AudioAssessment, type VoiceActivity, assessAudio, voiceActivity } from './audio/index.js';
export { DEFAULT_FRONT_END, type FrontEndConfig, LogMelFrontEnd, type Spectrogram, fixLength, framesFor } from './features/index.js';
export { type Utterance, extractFeatures, loadCorpus, makeSplit } from './data/index.js';
export { type CnnTmConfig, CnnTmTrainer, PAPER_CNN_TM, loadStateDict, saveStateDict } from './model/index.js';
export { RunModel, evaluateRun, predictFiles, predictSegments, trainRun } from './train/index.js';
export { type EvaluationReport, evaluate, formatReport, toJson, writeHtmlReport } from './eval/index.js';
export { readSafetensors, writeSafetensors } from './io/index.js';
