/**
 * Noisy copies of a corpus folder's WAV files, to measure what steady background noise does to a model (issue 9:
 * users' recordings are rarely as quiet as an acted corpus's studio). Each file gets white, pink or brown noise (the
 * waveforms the training recipe's noise augmentation uses, src/train/augment.ts noiseWaveforms; seeded by `--seed`
 * and the file's place in the list, so the same --from and --only give the same copies)
 * scaled to a signal-to-noise ratio over the speech:
 *
 *     SNR = 10 log10(P_speech / P_noise),  P_speech = mean x^2 over the voice-active frames (src/audio/vad.ts rule),
 *                                          P_noise  = mean n^2 over the whole file,
 *
 * so a recording's pauses do not lower its SNR as they would with the mean over the file. A mix whose peak passes
 * full scale is scaled down as a whole (the models normalise level). Folder tree and names are kept.
 * `--trim-first DB` cuts each recording to its speech span (src/features speechSpan at DB, on the clean audio, the
 * rule the recipe's silence trimming uses) before the noise goes in, so the copy holds the same speech as what the
 * models keep of the original; without it, a noise floor above the trimming threshold keeps a recording's leading
 * and trailing pauses in the model's windows.
 *
 *   npx tsx bench/noisy-copies.ts --from ../shared/data/ravdess --to /tmp/noisy-ravdess-20 --snr 20 [--kind pink] [--only Actor_13,...] [--seed 0] [--trim-first 40]
 *   ser eval --model RUN --data /tmp/noisy-ravdess-20 --dataset ravdess --json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/load.js';
import { voiceActivity } from '../src/audio/vad.js';
import { mixSeed, mulberry32 } from '../src/data/prng.js';
import { LogMelFrontEnd } from '../src/features/front-end.js';
import { speechSpan } from '../src/features/utterance.js';
import { noiseWaveforms } from '../src/train/augment.js';
import { copyPath, corpusFiles, wavBytes } from './corpus-copies.js';

const { values: args } = parseArgs({
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    only: { type: 'string' },
    snr: { type: 'string' },
    kind: { type: 'string', default: 'pink' },
    seed: { type: 'string', default: '0' },
    'trim-first': { type: 'string' },
  },
});
if (!args.from || !args.to || args.snr === undefined) throw new Error('give --from CORPUS_DIR --to OUT_DIR --snr DB');
const snrDb = Number(args.snr);
if (!Number.isFinite(snrDb)) throw new Error(`--snr must be a number of dB (${args.snr} given)`);
const kind = args.kind as 'white' | 'pink' | 'brown';
if (!['white', 'pink', 'brown'].includes(kind)) throw new Error('--kind is white, pink or brown');
const seed = Number(args.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer (${args.seed} given)`);
const only = args.only ? new Set(args.only.split(',')) : null;
const trimDb = args['trim-first'] === undefined ? null : Number(args['trim-first']);
if (trimDb !== null && !(trimDb > 0)) throw new Error(`--trim-first must be a positive number of dB (${args['trim-first']} given)`);
const unclamped = new LogMelFrontEnd({ topDb: null });

/**
 * The samples of the speech span of `samples`, or all of them: frame t is centred on sample t hop (the front end pads
 * half a window each side), so the cut keeps the samples from the first speech frame's centre to the last one's.
 */
function speechOnly(samples: Float32Array): Float32Array {
  if (trimDb === null) return samples;
  const span = speechSpan(unclamped.logMel(samples), trimDb);
  const hop = unclamped.config.hopLength;
  return samples.subarray(span.start * hop, Math.min(samples.length, span.end * hop));
}

/** Mean of x^2 over the voice-active frames of `samples` (the whole file when none is active). */
function speechPower(samples: Float32Array, rateHz: number): number {
  const activity = voiceActivity(samples, rateHz);
  const frameLength = Math.round(activity.frameS * rateHz);
  let sum = 0;
  let count = 0;
  for (let f = 0; f < activity.active.length; f++) {
    if (!activity.active[f]) continue;
    for (let i = f * frameLength; i < Math.min((f + 1) * frameLength, samples.length); i++) {
      sum += (samples[i] as number) ** 2;
      count++;
    }
  }
  if (count > 0) return sum / count;
  for (const x of samples) sum += x * x;
  return sum / Math.max(samples.length, 1);
}

const files = corpusFiles(args.from, only);
for (const [index, file] of files.entries()) {
  const samples = speechOnly((await loadAudio(file, { sampleRateHz: 16000 })).samples);
  const noise = noiseWaveforms(samples.length, mulberry32(mixSeed(seed, index)))[kind];
  let noisePower = 0;
  for (const n of noise) noisePower += n * n;
  noisePower /= Math.max(noise.length, 1);
  const gain = Math.sqrt(speechPower(samples, 16000) / (noisePower * 10 ** (snrDb / 10)));
  const mix = Float32Array.from(samples, (x, i) => x + gain * (noise[i] as number));
  let peak = 0;
  for (const x of mix) peak = Math.max(peak, Math.abs(x));
  if (peak > 1) for (let i = 0; i < mix.length; i++) mix[i] = (mix[i] as number) / peak;
  const out = copyPath(args.from, args.to, file);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, wavBytes(mix, 16000));
}
console.log(
  `${files.length} copies with ${kind} noise at ${snrDb} dB SNR (over the speech)${trimDb === null ? '' : `, cut to the speech (${trimDb} dB)`} in ${args.to}`,
);
