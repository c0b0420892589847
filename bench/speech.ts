/**
 * The streaming benchmarks' audio: RAVDESS clips of assets/corpus joined (actors 01-06, in file order) to
 * `seconds` at 16 kHz, resampled to `rateHz` when it is not 16 kHz (the recognizer resamples back, as it does a
 * 44.1/48 kHz microphone).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAudio, resample } from '../src/audio/index.js';
import { assetPath } from '../src/io/paths.js';

export async function joinedSpeech(seconds: number, rateHz = 16000): Promise<Float32Array> {
  const speech = new Float32Array(Math.round(seconds * 16000));
  let filled = 0;
  for (const actor of ['01', '02', '03', '04', '05', '06']) {
    const dir = assetPath('corpus', 'ravdess', `Actor_${actor}`);
    for (const file of readdirSync(dir).sort()) {
      if (filled >= speech.length) break;
      const { samples } = await loadAudio(join(dir, file));
      speech.set(samples.subarray(0, speech.length - filled), filled);
      filled += samples.length;
    }
  }
  return rateHz === 16000 ? speech : resample(speech, 16000, rateHz);
}
