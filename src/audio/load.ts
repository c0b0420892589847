/**
 * From a path to the model's input signal: read the file, decode it by content, mix down to mono
 * (mean over channels), check every sample is finite, resample to `sampleRateHz` (torchaudio's
 * resample). Every failure is a SerError naming the file; a batch collects them and goes on.
 */
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { SerError } from '../errors.js';
import { aiffLayout } from './aiff.js';
import { type DecodedAudio, decodeAudio, sniffFormat } from './decode.js';
import { deinterleave } from './pcm.js';
import { type PcmLayout, decodeLayout, wavLayout } from './wav.js';
import { DEFAULT_SAMPLE_RATE_HZ, type LoadOptions, type LoadedAudio, fromDecoded, toMono } from './signal.js';
import { StreamResampler } from './stream-resampler.js';
import { SampleValueCheck } from './vad.js';

/** Reads, decodes, mixes down, validates and resamples one file. Throws SerError (EARG, EIO, EDECODE, EAUDIO). */
export async function loadAudio(path: string, options: LoadOptions = {}): Promise<LoadedAudio> {
  const sampleRateHz = options.sampleRateHz ?? DEFAULT_SAMPLE_RATE_HZ;
  if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0) {
    throw new SerError('EARG', 'load', `sampleRateHz must be a positive integer (${sampleRateHz} given)`);
  }
  if (options.maxS !== undefined && !(options.maxS > 0)) {
    throw new SerError('EARG', 'load', `maxS must be a positive number of seconds (${options.maxS} given)`);
  }
  if (options.maxS !== undefined) {
    const maxS = options.maxS;
    const prefix = await unexpectedFailuresNamed(path, () => readPcmPrefix(path, maxS + 1));
    if (prefix) return fromDecoded(prefix, path, { sampleRateHz });
  }
  return loadAudioBytes(await readAudioFile(path), path, { sampleRateHz });
}

/**
 * loadAudio's steps after reading: decodes `bytes` by content, mixes down, validates and resamples; `source` names
 * them in errors (a path, or e.g. 'request body'). Throws SerError (EDECODE, EAUDIO).
 */
export async function loadAudioBytes(bytes: Uint8Array, source: string, options: LoadOptions = {}): Promise<LoadedAudio> {
  const decoded = await unexpectedFailuresNamed(source, () => decodeAudio(bytes, source));
  return fromDecoded(decoded, source, options);
}

/** Runs a decoding step; an error that is not a SerError (a bug in a parser or the decoder library) becomes an EDECODE naming `source`. */
async function unexpectedFailuresNamed<T>(source: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof SerError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new SerError('EDECODE', 'decode', `${source}: unexpected decoder failure: ${message} (please report it with the file)`, {
      cause: error,
    });
  }
}

/** Bytes read first to find a WAV/AIFF file's headers. */
const HEAD_BYTES = 1 << 20;

/**
 * The first `seconds` of a WAV or AIFF file, reading only the headers and that range of samples; null for other
 * formats, or when the headers do not fit in the first MB (the caller then decodes the whole file).
 */
async function readPcmPrefix(path: string, seconds: number): Promise<DecodedAudio | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null; // readAudioFile reports why
  }
  try {
    const found = await readPcmLayout(handle, path);
    if (!found) return null;
    const { layout, head } = found;
    const frames = Math.min(layout.frames, Math.ceil(seconds * layout.sampleRateHz));
    const needed = layout.dataStart + frames * layout.channels * layout.encoding.bytes;
    let bytes = head;
    if (needed > head.length) {
      bytes = new Uint8Array(needed);
      bytes.set(head);
      await handle.read(bytes, head.length, needed - head.length, head.length);
    }
    return decodeLayout(bytes, layout, frames);
  } finally {
    await handle.close();
  }
}

/**
 * The sample layout of an open WAV or AIFF file from its first MB (and that MB); null for other formats, an empty
 * file, or when the headers do not fit in the first MB (the caller then decodes the whole file).
 */
async function readPcmLayout(handle: FileHandle, path: string): Promise<{ layout: PcmLayout; head: Uint8Array } | null> {
  const info = await handle.stat();
  if (!info.isFile() || info.size === 0) return null;
  const size = info.size;
  const head = new Uint8Array(Math.min(size, HEAD_BYTES));
  await handle.read(head, 0, head.length, 0);
  const container = sniffFormat(head);
  if (container !== 'wav' && container !== 'aiff') return null;
  try {
    return { layout: container === 'wav' ? wavLayout(head, path, size) : aiffLayout(head, path, size), head };
  } catch (error) {
    if (head.length < size) return null; // perhaps headers past the first MB: decode the whole file
    throw error;
  }
}

/** A WAV or AIFF file opened for reading in chunks (openAudioChunks). */
export interface AudioChunks {
  /** Sample rate and channel count stored in the file; DecodedAudio.format, e.g. 'wav/pcm16'. */
  sourceSampleRateHz: number;
  sourceChannels: number;
  format: string;
  /** What decoding works around (a truncated file read as far as it goes); empty when nothing. */
  warnings: string[];
  /** Samples after the data's start at `sampleRateHz` that one chunk yields (at most), before resampling. */
  chunkFrames: number;
  /** Length of the recording in seconds, from its header (frames / sourceSampleRateHz). */
  durationS: number;
  /**
   * The mono samples at `sampleRateHz`, chunk by chunk: together exactly loadAudio(path).samples. Throws loadAudio's
   * EAUDIO error (the same message) when a sample is unusable, after reading the file to its end to count them.
   */
  chunks(): AsyncGenerator<Float32Array>;
}

/**
 * loadAudio in bounded memory, for long WAV and AIFF files: the samples are read, mixed down, checked and resampled
 * `chunkS` seconds at a time (default 10), with StreamResampler (the same samples as resample() on the whole file),
 * so memory does not grow with the recording. null for other formats (compressed files are decoded whole: use
 * loadAudio) and files that cannot be opened (loadAudio says why). Throws EDECODE for a broken WAV/AIFF header.
 */
export async function openAudioChunks(path: string, options: { sampleRateHz?: number; chunkS?: number } = {}): Promise<AudioChunks | null> {
  const sampleRateHz = options.sampleRateHz ?? DEFAULT_SAMPLE_RATE_HZ;
  const chunkS = options.chunkS ?? 10;
  if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0) {
    throw new SerError('EARG', 'load', `sampleRateHz must be a positive integer (${sampleRateHz} given)`);
  }
  if (!(chunkS > 0 && Number.isFinite(chunkS)))
    throw new SerError('EARG', 'load', `chunkS must be a positive number of seconds (${chunkS} given)`);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  let found: { layout: PcmLayout } | null;
  try {
    found = await unexpectedFailuresNamed(path, () => readPcmLayout(handle, path));
  } finally {
    await handle.close();
  }
  if (!found) return null;
  const { layout } = found;
  const chunkFrames = Math.max(1, Math.round(chunkS * layout.sampleRateHz));
  return {
    sourceSampleRateHz: layout.sampleRateHz,
    sourceChannels: layout.channels,
    format: layout.format,
    warnings: layout.warnings,
    chunkFrames,
    durationS: layout.frames / layout.sampleRateHz,
    chunks: () => pcmChunks(path, layout, chunkFrames, sampleRateHz),
  };
}

async function* pcmChunks(path: string, layout: PcmLayout, chunkFrames: number, sampleRateHz: number): AsyncGenerator<Float32Array> {
  const frameBytes = layout.channels * layout.encoding.bytes;
  const buffer = new Uint8Array(chunkFrames * frameBytes);
  // The checks of fromDecoded (at the file's rate, before resampling), so errors name the same sample.
  const check = new SampleValueCheck(layout.sampleRateHz, path);
  const resampler = new StreamResampler(layout.sampleRateHz, sampleRateHz);
  const handle = await open(path, 'r');
  try {
    for (let frame = 0; frame < layout.frames; frame += chunkFrames) {
      const frames = Math.min(chunkFrames, layout.frames - frame);
      const bytes = buffer.subarray(0, frames * frameBytes);
      for (let at = 0; at < bytes.length; ) {
        const { bytesRead } = await handle.read(bytes, at, bytes.length - at, layout.dataStart + frame * frameBytes + at);
        if (bytesRead === 0) throw new SerError('EIO', 'load', `${path}: the file shrank while it was read (changed by another program?)`);
        at += bytesRead;
      }
      const mono = toMono(deinterleave(bytes, 0, frames, layout.channels, layout.encoding));
      check.push(mono);
      if (check.failed) continue; // the error is certain: only count the rest for its message
      const out = resampler.push(mono);
      if (out.length > 0) yield out;
    }
    const error = check.result();
    if (error) throw error;
    const tail = resampler.end();
    if (tail.length > 0) yield tail;
  } finally {
    await handle.close();
  }
}

async function readAudioFile(path: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new SerError('EIO', 'load', `${path}: is a directory, not an audio file (give a file, or use a dataset command for folders)`);
    }
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if (error instanceof SerError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file (check the path)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied (check the file permissions)'
          : code === 'EISDIR'
            ? 'is a directory, not an audio file'
            : `cannot be read (${code ?? (error as Error).message})`;
    throw new SerError('EIO', 'load', `${path}: ${why}`, { cause: error });
  }
}

export interface BatchOptions extends LoadOptions {
  /** Files read and decoded at once (default 4). Decoding is CPU-bound; this mainly overlaps reads. */
  concurrency?: number;
  /** Called after each file, success or failure. */
  onProgress?: (done: number, total: number) => void;
}

export interface BatchResult {
  /** Loaded files, in input order. */
  ok: Array<{ path: string; audio: LoadedAudio }>;
  /** Every file that failed with its error, in input order; the batch went on past each. */
  failed: Array<{ path: string; error: SerError }>;
}

/** Loads many files; a failure is recorded and the batch goes on. Never rejects for a bad file. */
export async function loadAudioBatch(paths: readonly string[], options: BatchOptions = {}): Promise<BatchResult> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new SerError('EARG', 'load', `concurrency must be a positive integer (${concurrency} given)`);
  }
  const results: Array<{ audio?: LoadedAudio; error?: SerError }> = new Array(paths.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < paths.length) {
      const index = next++;
      const path = paths[index] as string;
      try {
        results[index] = { audio: await loadAudio(path, options) };
      } catch (error) {
        results[index] = {
          error:
            error instanceof SerError
              ? error
              : new SerError('EDECODE', 'load', `${path}: unexpected failure: ${String(error)}`, { cause: error }),
        };
      }
      options.onProgress?.(++done, paths.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  const batch: BatchResult = { ok: [], failed: [] };
  results.forEach((r, i) => {
    const path = paths[i] as string;
    if (r.audio) batch.ok.push({ path, audio: r.audio });
    else if (r.error) batch.failed.push({ path, error: r.error });
  });
  return batch;
}
