/** Audio in: decode any supported file by content, mix down to mono, resample to the model's rate. */
export { type AudioContainer, type DecodedAudio, decodeAudio, sniffFormat, toMono } from './decode.js';
export {
  type BatchOptions,
  type BatchResult,
  DEFAULT_SAMPLE_RATE_HZ,
  type LoadedAudio,
  type LoadOptions,
  loadAudio,
  loadAudioBatch,
  fromDecoded,
  validateSamples,
} from './load.js';
export { resample } from './resample.js';
