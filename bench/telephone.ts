/**
 * Telephone-channel copies of a corpus folder's WAV files, to measure what a narrow-band line does to a model
 * (issue 9: call analytics is a use the README names). Each file: resampled to 8 kHz (the project's resampler,
 * whose low-pass removes everything above 4 kHz), a fourth-order Butterworth band-pass of 300-3400 Hz (the
 * telephone band of ITU-T G.712; two high-pass and two low-pass biquads of the Audio EQ Cookbook, Q = 0.5412 and
 * 1.3066), G.711 mu-law (mu = 255, 8 bits: 1 sign + 7 magnitude steps on the companded scale), back to 16 kHz.
 * The folder tree and file names are kept, so the copy reads with the corpus's own --dataset. `--stage` keeps one
 * stage alone, to see which does the damage: `resample` (to 8 kHz and back, nothing else) or `mu-law` (at 16 kHz).
 *
 *   npx tsx bench/telephone.ts --from ../shared/data/ravdess --to /tmp/telephone-ravdess [--only Actor_13,...,Actor_18] [--stage resample|mu-law]
 *   ser eval --model RUN --data /tmp/telephone-ravdess --dataset ravdess --json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/load.js';
import { resample } from '../src/audio/resample.js';
import { copyPath, corpusFiles, wavBytes } from './corpus-copies.js';

const { values: args } = parseArgs({
  options: { from: { type: 'string' }, to: { type: 'string' }, only: { type: 'string' }, stage: { type: 'string' } },
});
if (args.stage !== undefined && args.stage !== 'resample' && args.stage !== 'mu-law') throw new Error('--stage is resample or mu-law');
if (!args.from || !args.to) throw new Error('give --from CORPUS_DIR --to OUT_DIR');
const only = args.only ? new Set(args.only.split(',')) : null;

/** A biquad of the Audio EQ Cookbook (R. Bristow-Johnson), 'lowpass' or 'highpass', run in place. */
function biquad(x: Float64Array, kind: 'lowpass' | 'highpass', hz: number, q: number, rateHz: number): void {
  const w = (2 * Math.PI * hz) / rateHz;
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const b1 = kind === 'lowpass' ? 1 - cos : -(1 + cos);
  const b0 = kind === 'lowpass' ? b1 / 2 : -b1 / 2;
  const a0 = 1 + alpha;
  const [n0, n1, n2, d1, d2] = [b0 / a0, b1 / a0, b0 / a0, (-2 * cos) / a0, (1 - alpha) / a0];
  let [x1, x2, y1, y2] = [0, 0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    const input = x[i] as number;
    const y = n0 * input + n1 * x1 + n2 * x2 - d1 * y1 - d2 * y2;
    [x2, x1, y2, y1] = [x1, input, y1, y];
    x[i] = y;
  }
}

/** G.711-style mu-law companding with 8-bit quantisation, in place. */
function muLaw(x: Float64Array): void {
  const mu = 255;
  for (let i = 0; i < x.length; i++) {
    const v = Math.min(Math.abs(x[i] as number), 1);
    const code = Math.round((Math.log1p(mu * v) / Math.log1p(mu)) * 127) / 127;
    x[i] = (Math.sign(x[i] as number) * ((1 + mu) ** code - 1)) / mu;
  }
}

const files = corpusFiles(args.from, only);
for (const file of files) {
  const audio = await loadAudio(file, { sampleRateHz: 16000 });
  const out = copyPath(args.from, args.to, file);
  mkdirSync(dirname(out), { recursive: true });
  if (args.stage === 'mu-law') {
    const line = Float64Array.from(audio.samples);
    muLaw(line);
    writeFileSync(out, wavBytes(Float32Array.from(line), 16000));
    continue;
  }
  const line = Float64Array.from(resample(audio.samples, 16000, 8000));
  if (args.stage !== 'resample') {
    for (const q of [0.5412, 1.3066]) biquad(line, 'highpass', 300, q, 8000);
    for (const q of [0.5412, 1.3066]) biquad(line, 'lowpass', 3400, q, 8000);
    muLaw(line);
  }
  writeFileSync(out, wavBytes(resample(Float32Array.from(line), 8000, 16000), 16000));
}
console.log(`${files.length} telephone-band copies in ${args.to}`);
