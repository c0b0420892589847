/**
 * Fixed-length clips for batching. Policy (deterministic, documented once):
 * - longer than `lengthSamples`: keep the START, drop the tail (the same call always gives the same crop;
 *   random crops for augmentation belong to the data pipeline, not here);
 * - shorter: append zeros at the END (digital silence; after the log-mel it reads as -100 dB, or the clip's
 *   top_db floor).
 * With the default front end, 3 s = 48000 samples -> framesFor(3) = 188 frames.
 */
import { SerError } from '../errors.js';
import { samplesFor } from './config.js';
import type { LogMelFrontEnd } from './front-end.js';

export function fixLength(samples: Float32Array, lengthSamples: number): Float32Array {
  if (!Number.isInteger(lengthSamples) || lengthSamples < 0) {
    throw new SerError('EARG', 'features', `fixLength: lengthSamples must be a non-negative integer (${lengthSamples} given)`);
  }
  if (samples.length >= lengthSamples) return samples.slice(0, lengthSamples);
  const out = new Float32Array(lengthSamples);
  out.set(samples);
  return out;
}

/**
 * One clip's model input, as training, evaluation and every inference path make it: mono `samples` at the front
 * end's rate, the first `offsetS` seconds skipped, fixLength to `durationS` seconds, log-mel dB [nMels, frames]
 * row-major.
 */
export function clipLogMel(frontEnd: LogMelFrontEnd, samples: Float32Array, durationS: number, offsetS = 0): Float32Array {
  const start = Math.min(samplesFor(offsetS, frontEnd.config), samples.length);
  return frontEnd.logMel(fixLength(samples.subarray(start), samplesFor(durationS, frontEnd.config))).data;
}
