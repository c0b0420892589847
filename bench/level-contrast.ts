/**
 * How far a folder's recordings stand above their own background: each recording's level contrast, the loudest
 * 20 ms frame minus the 10th-percentile frame in dB (src/audio/vad.ts, the rule `ser predict` uses to tell speech
 * from steady noise). Studio recordings with digital silence between words have contrasts of 50 dB and more; a
 * steady noise floor 20 dB under the speech gives about 20-25 dB. Prints the mean, the median and the range.
 *
 *   npx tsx bench/level-contrast.ts --from ../shared/data/crema-d/sample [--limit 60]
 */
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/load.js';
import { voiceActivity } from '../src/audio/vad.js';
import { corpusFiles } from './corpus-copies.js';

const { values: args } = parseArgs({ options: { from: { type: 'string' }, limit: { type: 'string' } } });
if (!args.from) throw new Error('give --from FOLDER (its audio files, in sub-folders too, sorted by path)');
const limit = args.limit === undefined ? Number.POSITIVE_INFINITY : Number(args.limit);
if (!(limit >= 1)) throw new Error(`--limit must be a number of files >= 1 (${args.limit} given)`);

const files = corpusFiles(args.from, null, /\.(wav|opus|ogg|flac|mp3|m4a|aiff?)$/i).slice(0, limit);
if (files.length === 0) throw new Error(`${args.from} holds no audio files`);

const contrasts: number[] = [];
for (const file of files) {
  const audio = await loadAudio(file);
  contrasts.push(voiceActivity(audio.samples, audio.sampleRateHz).contrastDb);
}
contrasts.sort((a, b) => a - b);
const mean = contrasts.reduce((sum, c) => sum + c, 0) / contrasts.length;
const median = contrasts[Math.floor((contrasts.length - 1) / 2)] as number;
console.log(
  `${args.from}: ${files.length} recordings, level contrast mean ${mean.toFixed(1)} dB, median ${median.toFixed(1)} dB, ` +
    `range ${(contrasts[0] as number).toFixed(1)}-${(contrasts.at(-1) as number).toFixed(1)} dB`,
);
