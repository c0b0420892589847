export { DEFAULT_FRONT_END, describeFrontEnd, framesFor, framesForSamples, frontEndKey, resolveFrontEnd, samplesFor } from './config.js';
export type { FrontEndConfig, MelScale, ResolveOptions } from './config.js';
export { LogMelFrontEnd } from './front-end.js';
export type { Spectrogram } from './front-end.js';
export { clipLogMel, fixLength } from './fixed-length.js';
export { powerToDb, clampTopDb, AMIN } from './db.js';
export { HERTZ_TO_MEL, melFilterBank } from './mel.js';
export type { MelFilterBank, MelFilterBankOptions } from './mel.js';
export { hannWindow, padWindowCentered } from './window.js';
export { ComplexFft, RealFft } from './fft.js';
export { logMelNodes } from './graph.js';
export {
  FIRST_CLIP_POLICY,
  type InputPolicy,
  SILENCE_DB,
  checkInputPolicy,
  cropOffsets,
  inferenceWindows,
  maxOffset,
  speechSpan,
  utteranceLogMel,
  utteranceWindows,
  windowLogMel,
} from './utterance.js';
