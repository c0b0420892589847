/** Streaming recognition (recognizer.ts: one definition for Node and browsers); node.ts: over a run in Node. */
export {
  SILENCE_LABEL,
  type StreamOptions,
  type StreamWindow,
  StreamingRecognizer,
  type SpeechGate,
  type WindowModel,
  speechInWindow,
} from './recognizer.js';
export { StreamResampler } from '../audio/stream-resampler.js';
export { openStream, windowModel } from './node.js';
