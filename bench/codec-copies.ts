/**
 * Lossy-codec copies of a corpus folder's WAV files, to measure what the codecs users' audio arrives in (voice
 * messages, app recordings) do to a model's answers. The shared corpora are four in Opus and RAVDESS in WAV, so a
 * model of the mixture could also learn the codec as a trait of a corpus; this shows whether its answers move with it.
 * Each file is encoded by the reference encoder, called as a command (Debian's opus-tools and lame: a benchmark's
 * tools, never the project's), and kept encoded: `ser eval` then reads it through the project's own decoder, as a
 * user's file would be. The folder tree and file names are kept (only the extension changes), so the copy reads with
 * the corpus's own --dataset.
 *
 *   apt-get install -y opus-tools lame
 *   npx tsx bench/codec-copies.ts --from ../shared/data/ravdess --to /tmp/opus48-ravdess --codec opus --kbps 48 [--only Actor_13,...,Actor_18]
 *   ser eval --model RUN --data /tmp/opus48-ravdess --dataset ravdess --labels six --json --predictions F
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { copyPath, corpusFiles } from './corpus-copies.js';

const { values: args } = parseArgs({
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    only: { type: 'string' },
    codec: { type: 'string' },
    kbps: { type: 'string' },
  },
});
if (!args.from || !args.to) throw new Error('give --from CORPUS_DIR --to OUT_DIR --codec opus|mp3 --kbps N');
const kbps = Number(args.kbps);
if (!(Number.isInteger(kbps) && kbps >= 6 && kbps <= 320))
  throw new Error(`--kbps is a whole bit rate in kb/s, 6-320 (${args.kbps} given)`);

/** The encoder's command line for one file: Opus (libopus, VBR at the target rate) or MP3 (LAME, constant rate). */
const encoders: Record<string, { extension: string; command: (input: string, output: string) => [string, string[]] }> = {
  opus: { extension: '.opus', command: (input, output) => ['opusenc', ['--quiet', '--bitrate', String(kbps), input, output]] },
  mp3: { extension: '.mp3', command: (input, output) => ['lame', ['--quiet', '-b', String(kbps), input, output]] },
};
const encoder = encoders[args.codec ?? ''];
if (!encoder) throw new Error(`--codec is opus or mp3 (${args.codec} given)`);

const files = corpusFiles(args.from, args.only ? new Set(args.only.split(',')) : null);
for (const file of files) {
  const output = copyPath(args.from, args.to, file).replace(/\.wav$/i, encoder.extension);
  mkdirSync(dirname(output), { recursive: true });
  const [command, commandArgs] = encoder.command(file, output);
  try {
    execFileSync(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`${command} failed on ${file} (is it installed? apt-get install -y opus-tools lame): ${String(error)}`);
  }
}
console.log(`${files.length} files encoded as ${args.codec} at ${kbps} kb/s under ${args.to}`);
