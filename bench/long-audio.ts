/**
 * `ser predict --segments` on long recordings (issue 12): peak memory and real-time factor of the CLI on a WAV of
 * several hours, to show memory does not grow with the recording (WAV/AIFF are read window by window).
 *
 *   npm run bench:long [-- --hours 0.5,3] [--threads 1] [--json] [--dir /tmp] [--cli path/to/dist/cli/main.js]
 *
 * For each duration: writes a 16 kHz 16-bit mono WAV in a temp folder from real speech, RAVDESS clips of
 * ../shared/data/ravdess (actors in turn) each followed by a pause of 0.5-2.5 s of digital silence (seeded), cut to
 * the duration; runs `node dist/cli/main.js predict --segments FILE --json --threads N` as a child under
 * /usr/bin/time -v (peak RSS: its "Maximum resident set size"); real-time factor = wall time / audio duration;
 * deletes the file. Needs `npm run build` first, and disk space for the file (3 h: 346 MB; 10 h: 1.15 GB). --cli runs
 * another build's CLI on the same files (e.g. an earlier commit's, to compare).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/index.js';
import { mulberry32 } from '../src/data/prng.js';
import { packageRoot } from '../src/io/paths.js';
import { timeCli } from './time-cli.js';

const { values: args } = parseArgs({
  options: {
    hours: { type: 'string', default: '0.5,3' },
    threads: { type: 'string', default: '1' },
    dir: { type: 'string', default: tmpdir() },
    json: { type: 'boolean', default: false },
    cli: { type: 'string' },
  },
});
const RATE = 16000;
const root = packageRoot();
const cli = args.cli ?? join(root, 'dist', 'cli', 'main.js');
const ravdess = join(root, '..', 'shared', 'data', 'ravdess');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
if (!existsSync(ravdess)) throw new Error(`${ravdess} is missing: the benchmark needs the RAVDESS clips of ../shared`);

/** Speech clips as 16-bit samples: the first 8 clips of each actor (144 clips, about 9 minutes). */
async function speechClips(): Promise<Int16Array[]> {
  const clips: Int16Array[] = [];
  for (const actor of readdirSync(ravdess).sort()) {
    for (const name of readdirSync(join(ravdess, actor)).sort().slice(0, 8)) {
      const samples = (await loadAudio(join(ravdess, actor, name), { sampleRateHz: RATE })).samples;
      clips.push(Int16Array.from(samples, (x) => Math.round(Math.max(-1, Math.min(1, x)) * 32767)));
    }
  }
  return clips;
}

/** Writes a WAV of `seconds` of clips and pauses to `path`, a block at a time. */
function writeLongWav(path: string, seconds: number, clips: Int16Array[]): void {
  const total = Math.round(seconds * RATE);
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) header.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  header.setUint32(4, 36 + total * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, RATE, true);
  header.setUint32(28, RATE * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  ascii(36, 'data');
  header.setUint32(40, total * 2, true);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, new Uint8Array(header.buffer));
    const random = mulberry32(12);
    let written = 0;
    for (let k = 0; written < total; k++) {
      const clip = clips[k % clips.length] as Int16Array;
      const pause = new Int16Array(Math.round((0.5 + 2 * random()) * RATE));
      for (const part of [clip, pause]) {
        const n = Math.min(part.length, total - written);
        writeSync(fd, new Uint8Array(part.buffer, part.byteOffset, n * 2));
        written += n;
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface Run {
  hours: number;
  fileMb: number;
  wallS: number;
  realTimeFactor: number;
  peakRssMb: number;
  windows: number;
  flaggedWindows: number;
  label: string;
  loadBefore: number;
  loadAfter: number;
}

const clips = await speechClips();
const runs: Run[] = [];
for (const hours of args.hours.split(',').map(Number)) {
  const dir = mkdtempSync(join(args.dir, 'ser-long-audio-'));
  const file = join(dir, `speech-${hours}h.wav`);
  try {
    writeLongWav(file, hours * 3600, clips);
    const fileMb = statSync(file).size / 2 ** 20;
    const loadBefore = loadavg()[0] as number;
    const { wallS, peakRssMb, stdout } = await timeCli(cli, ['predict', '--segments', file, '--json', '--threads', args.threads]);
    const result = JSON.parse(stdout.trim().split('\n')[0] as string) as {
      label?: string;
      segments?: unknown[];
      flaggedSegments?: unknown[];
      error?: string;
    };
    if (!result.segments) throw new Error(`no segments: ${stdout.slice(0, 500)}`);
    const run: Run = {
      hours,
      fileMb: Math.round(fileMb),
      wallS: Number(wallS.toFixed(1)),
      realTimeFactor: Number((wallS / (hours * 3600)).toFixed(4)),
      peakRssMb: Math.round(peakRssMb),
      windows: result.segments.length,
      flaggedWindows: result.flaggedSegments?.length ?? 0,
      label: result.label ?? '',
      loadBefore: Number(loadBefore.toFixed(1)),
      loadAfter: Number((loadavg()[0] as number).toFixed(1)),
    };
    runs.push(run);
    if (!args.json) {
      console.log(
        `${hours} h (${run.fileMb} MB WAV): wall ${run.wallS} s, real-time factor ${run.realTimeFactor}, peak RSS ${run.peakRssMb} MB; ` +
          `${run.windows} windows classified, ${run.flaggedWindows} without speech; load ${run.loadBefore} -> ${run.loadAfter}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const machine = { node: process.version, cpus: execFileSync('nproc', { encoding: 'utf8' }).trim(), threads: Number(args.threads) };
if (args.json) console.log(JSON.stringify({ machine, runs }, null, 2));
