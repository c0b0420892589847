/** Audio in: decode any supported file by content, mix down to mono, resample to the model's rate. */
export { type AudioContainer, type DecodedAudio, decodeAudio, sniffFormat } from './decode.js';
export {
  type AudioChunks,
  type BatchOptions,
  type BatchResult,
  loadAudio,
  loadAudioBatch,
  loadAudioBytes,
  openAudioChunks,
} from './load.js';
export { DEFAULT_SAMPLE_RATE_HZ, type LoadedAudio, type LoadOptions, fromDecoded, toMono, validateSamples } from './signal.js';
export { resample } from './resample.js';
export { StreamResampler } from './stream-resampler.js';
export {
  type AssessOptions,
  type AudioAssessment,
  type AudioFlag,
  type VoiceActivity,
  type VoiceActivityOptions,
  ASSESS_DEFAULTS,
  AudioAssessor,
  FrameLevelMeter,
  MAX_ABS_SAMPLE,
  SampleValueCheck,
  VAD_DEFAULTS,
  assessAudio,
  checkSampleValues,
  frameLevelsDbfs,
  voiceActivity,
} from './vad.js';
