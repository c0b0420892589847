/**
 * Seeded mutations of real files of every format we read, and the one check every case must pass: it ends in
 * audio, a flagged result or a coded SerError, never another exception, a NaN or infinity in any output
 * (samples, log-mel features), or an allocation out of proportion to the input. Used by test/audio/fuzz.test.ts
 * (a fixed sample) and bench/fuzz.ts (>= 5,000 cases).
 *
 * Mutations (each case draws one, from its own seed):
 *   flip     1..8 random bits anywhere
 *   cut      truncation at, and 1..3 bytes either side of, a structure boundary (RIFF/IFF chunk starts and ends,
 *            Ogg page starts, MPEG frame starts, FLAC metadata blocks and frame syncs) or at a random byte
 *   field    a 16- or 32-bit field at a boundary or in the first 64 bytes set to an absurd value (0, 1, 0x7fff,
 *            0xffff, 0x7fffffff, 0xffffffff, 0x80000000), either byte order
 *   dup      a structure (chunk, page, frame run) duplicated in place
 *   drop     a structure removed
 *   junk     the first 4..64 bytes kept, the rest replaced by random bytes (a header on garbage)
 *   huge     float WAV/AIFF only: 1..3 samples set to huge finite values (1e20, -3e38, 65537)
 *   splice   the head of one file followed by the tail of another format
 * Wrong extensions are covered by decoding by content: the bench also writes every 20th case to a file with
 * another format's extension and goes through loadAudio.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAudio, fromDecoded } from '../../src/audio/index.js';
import { listChunks } from '../../src/audio/chunks.js';
import { parseMpegHeader } from '../../src/audio/compressed.js';
import { assessAudio } from '../../src/audio/vad.js';
import { type Random, mixSeed, mulberry32 } from '../../src/data/prng.js';
import { SerError } from '../../src/errors.js';
import type { LogMelFrontEnd } from '../../src/features/front-end.js';
import { fixturesDir } from '../helpers.js';
import { concat } from './audio-helpers.js';

/** The seed files: one or more per format we read. */
export const SEED_FILES = [
  'speech-16k-pcm16.wav',
  'speech-16k-u8.wav',
  'speech-16k-pcm24-extensible.wav',
  'speech-16k-float32.wav',
  'speech-16k-float64.wav',
  'speech-16k-stereo-pcm16.wav',
  'speech-16k-streamed-ffmpeg.wav',
  'speech-44100-pcm16.wav',
  'speech-16k-pcm16.aiff',
  'speech-16k-fl32.aifc',
  'speech-16k-sowt.aifc',
  'speech-16k.flac',
  'speech-16k.mp3',
  'speech-16k.ogg',
  'speech-16k.opus',
  'speech-16k.m4a',
  'speech-16k.aac',
  'speech-16k.webm',
  'speech-16k.caf',
];

export const MUTATIONS = ['flip', 'cut', 'field', 'dup', 'drop', 'junk', 'huge', 'splice'] as const;
export type Mutation = (typeof MUTATIONS)[number];

export interface FuzzCase {
  index: number;
  seedFile: string;
  mutation: Mutation;
  bytes: Uint8Array;
}

export type Outcome = 'audio' | 'flagged' | 'error' | 'crash' | 'nan' | 'unbounded';

export interface CaseResult {
  outcome: Outcome;
  /** SerError code, flag, or the crash's message. */
  detail: string;
  ms: number;
}

export function loadSeeds(): Map<string, Uint8Array> {
  return new Map(SEED_FILES.map((name) => [name, new Uint8Array(readFileSync(join(fixturesDir, 'audio', name)))]));
}

/** Byte ranges [start, end) of the structures of a file: chunks, Ogg pages, MPEG frames, FLAC blocks/frames. */
export function structures(bytes: Uint8Array): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic === 'RIFF' || magic === 'RIFX' || magic === 'FORM') {
    for (const c of listChunks(bytes, 12, magic !== 'RIFF')) ranges.push([c.start - 8, Math.min(bytes.length, c.start + c.size)]);
  } else if (magic === 'OggS') {
    const starts: number[] = [];
    for (let i = 0; i + 4 <= bytes.length; i++)
      if (bytes[i] === 0x4f && bytes[i + 1] === 0x67 && bytes[i + 2] === 0x67 && bytes[i + 3] === 0x53) starts.push(i);
    for (const [k, s] of starts.entries()) ranges.push([s, starts[k + 1] ?? bytes.length]);
  } else {
    // MPEG frames (chained from the first header), FLAC frame syncs, or any 0xff sync-like byte pair.
    for (let i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] !== 0xff || ((bytes[i + 1] as number) & 0xe0) !== 0xe0) continue;
      const frame = parseMpegHeader(bytes, i);
      const end = frame && frame.length > 0 ? Math.min(bytes.length, i + frame.length) : Math.min(bytes.length, i + 64);
      ranges.push([i, end]);
    }
    if (ranges.length === 0) ranges.push([0, Math.min(bytes.length, 64)]);
  }
  return ranges.length > 0 ? ranges : [[0, bytes.length]];
}

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)] as T;
}

const ABSURD = [0, 1, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000];

/** Case `index` of the run seeded `seed`: deterministic. */
export function makeCase(seeds: Map<string, Uint8Array>, seed: number, index: number): FuzzCase {
  const random = mulberry32(mixSeed(seed, index));
  const seedFile = pick(SEED_FILES, random);
  const original = seeds.get(seedFile) as Uint8Array;
  const isFloat = /float|fl32/.test(seedFile);
  const mutation = pick(
    MUTATIONS.filter((m) => m !== 'huge' || isFloat),
    random,
  );
  const ranges = structures(original);
  const range = pick(ranges, random);
  let bytes: Uint8Array;
  switch (mutation) {
    case 'flip': {
      bytes = original.slice();
      const flips = 1 + Math.floor(random() * 8);
      for (let k = 0; k < flips; k++) {
        const at = Math.floor(random() * bytes.length);
        bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(random() * 8));
      }
      break;
    }
    case 'cut': {
      const boundary = random() < 0.8 ? (random() < 0.5 ? range[0] : range[1]) : Math.floor(random() * original.length);
      const at = Math.max(0, Math.min(original.length, boundary + Math.floor(random() * 7) - 3));
      bytes = original.slice(0, at);
      break;
    }
    case 'field': {
      bytes = original.slice();
      const at = random() < 0.5 ? range[0] + Math.floor(random() * 12) : Math.floor(random() * Math.min(64, bytes.length));
      const value = pick(ABSURD, random);
      const view = new DataView(bytes.buffer);
      const little = random() < 0.5;
      if (random() < 0.5 && at + 4 <= bytes.length) view.setUint32(at, value >>> 0, little);
      else if (at + 2 <= bytes.length) view.setUint16(at, value & 0xffff, little);
      break;
    }
    case 'dup':
      bytes = concat(original.subarray(0, range[1]), original.subarray(range[0], range[1]), original.subarray(range[1]));
      break;
    case 'drop':
      bytes = concat(original.subarray(0, range[0]), original.subarray(range[1]));
      break;
    case 'junk': {
      const keep = Math.min(original.length, 4 + Math.floor(random() * 61));
      bytes = new Uint8Array(keep + Math.floor(random() * 8192));
      bytes.set(original.subarray(0, keep));
      for (let i = keep; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      break;
    }
    case 'huge': {
      bytes = original.slice();
      const view = new DataView(bytes.buffer);
      const data = ranges.find(([s]) => ['data', 'SSND'].includes(String.fromCharCode(...bytes.subarray(s, s + 4)))) ?? range;
      const big = seedFile.endsWith('.aifc');
      const width = seedFile.includes('float64') ? 8 : 4;
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const slots = Math.floor((data[1] - data[0] - 16) / width);
        const at = data[0] + 16 + width * Math.floor(random() * Math.max(1, slots));
        if (at + width > bytes.length) continue;
        const value = pick([1e20, -3e38, 65537], random);
        if (width === 8) view.setFloat64(at, value, !big);
        else view.setFloat32(at, value, !big);
      }
      break;
    }
    case 'splice': {
      const other = seeds.get(pick(SEED_FILES, random)) as Uint8Array;
      const head = Math.floor(random() * original.length);
      bytes = concat(original.subarray(0, head), other.subarray(Math.floor(random() * other.length)));
      break;
    }
  }
  return { index, seedFile, mutation, bytes };
}

/** The largest decoded size accepted for `inputBytes` of input: 1000x plus 16 MB (Opus packs ~200x). */
export function decodedBudget(inputBytes: number): number {
  return 1000 * inputBytes + 16 * 2 ** 20;
}

/**
 * Runs one case through the pipeline (decode by content, mono/validation/resampling to 16 kHz, the unusable-audio
 * verdict, and the log-mel front end on usable audio) and classifies how it ended.
 */
export async function runCase(bytes: Uint8Array, source: string, frontEnd: LogMelFrontEnd): Promise<CaseResult> {
  const started = performance.now();
  const done = (outcome: Outcome, detail: string): CaseResult => ({ outcome, detail, ms: performance.now() - started });
  try {
    const decoded = await decodeAudio(bytes, source);
    const decodedBytes = decoded.channels.reduce((n, c) => n + c.byteLength, 0);
    if (decodedBytes > decodedBudget(bytes.length)) return done('unbounded', `${decodedBytes} bytes decoded from ${bytes.length}`);
    const loaded = fromDecoded(decoded, source);
    if (!allFinite(loaded.samples)) return done('nan', 'samples');
    const verdict = assessAudio(loaded.samples, loaded.sampleRateHz, source);
    if (verdict.kind === 'error') return done('error', verdict.error.code);
    if (verdict.kind === 'flagged') return done('flagged', verdict.flag);
    const mel = frontEnd.logMel(loaded.samples.subarray(0, 16000 * 3));
    if (!allFinite(mel.data)) return done('nan', 'log-mel');
    return done('audio', decoded.format);
  } catch (error) {
    if (error instanceof SerError) return done('error', error.code);
    return done('crash', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return false;
  return true;
}
