/**
 * Log-mel features for a list of utterances, computed once and reused across runs.
 *
 * Each clip: loadAudio (mono, resampled to the front end's rate) -> clipLogMel: skip `offsetS` -> fixLength to `durationS`
 * (keep the start, zero-pad the end) -> LogMelFrontEnd.logMel -> [nMels, frames].
 *
 * Cache layout: one file per (corpus, front-end key, duration, offset) in `cacheDir`, e.g.
 *   .cache/features/ravdess-3f2a9c01d4e5.safetensors
 * a safetensors file with one F32 tensor `features` [rows, nMels, frames] and in `__metadata__` the key parts and
 * an index (JSON) of [path, sizeBytes, mtimeMs] per row. A row is reused when the path, size and mtime of the
 * audio file still match; a different front end, duration or offset is a different file, so changing any of
 * them recomputes everything. Rows are read from and written to disk one by one, so memory holds only the
 * requested features. Decode failures are not cached: they are retried on the next run.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAudio } from '../audio/index.js';
import { SerError } from '../errors.js';
import { type FrontEndConfig, LogMelFrontEnd, clipLogMel, framesFor, frontEndKey } from '../features/index.js';
import type { Utterance } from './corpus.js';

/** Options of {@link extractFeatures}. */
export interface ExtractOptions {
  /** The front end, or overrides of DEFAULT_FRONT_END. Default: the paper's front end. */
  frontEnd?: LogMelFrontEnd | Partial<FrontEndConfig>;
  /** Clip length in seconds after cropping/padding; default 3 (188 frames at the default front end). */
  durationS?: number;
  /** Seconds skipped at the start of each clip before the `durationS` window; default 0. */
  offsetS?: number;
  /** Cache folder; default `.cache/features` under the working directory; null: no cache. */
  cacheDir?: string | null;
  /** Called after each clip: done of total. */
  onProgress?: (done: number, total: number) => void;
}

/** The result of {@link extractFeatures}. */
export interface ExtractedFeatures {
  /** Row-major [kept.length, nMels, frames]. */
  features: Float32Array;
  nMels: number;
  frames: number;
  /** Utterances with features, in input order; row i of `features` belongs to kept[i]. */
  kept: Utterance[];
  /** Utterances skipped, with the reason (decode error, unreadable file). */
  failed: Array<{ path: string; error: string }>;
  /** Rows read from the cache and rows computed. */
  cacheHits: number;
  computed: number;
}

/** One-line summary of the failures, e.g. "2 of 1080 files skipped: a.wav (decode: ...); b.wav (...)". */
export function summarizeFailures(result: Pick<ExtractedFeatures, 'failed' | 'kept'>, shown = 5): string {
  const total = result.failed.length + result.kept.length;
  if (result.failed.length === 0) return `all ${total} files decoded`;
  const list = result.failed.slice(0, shown).map((f) => `${f.path}: ${f.error}`);
  const more = result.failed.length > shown ? `; and ${result.failed.length - shown} more` : '';
  return `${result.failed.length} of ${total} files skipped: ${list.join('; ')}${more}`;
}

interface CacheEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

interface PackIndex {
  file: string;
  rows: Map<string, { row: number; size: number; mtimeMs: number }>;
  dataStart: number;
  /** Valid when the file exists and matches the key. */
  valid: boolean;
}

const FORMAT = 'ser-feature-cache/1';

/**
 * Features of `utterances` (see the module comment). Never throws for one bad file: it goes to `failed` and
 * the rest continue. Throws EARG for invalid options and EIO when the cache folder cannot be written.
 */
export async function extractFeatures(utterances: readonly Utterance[], options: ExtractOptions = {}): Promise<ExtractedFeatures> {
  const frontEnd = options.frontEnd instanceof LogMelFrontEnd ? options.frontEnd : new LogMelFrontEnd(options.frontEnd ?? {});
  const config = frontEnd.config;
  const durationS = options.durationS ?? 3;
  const offsetS = options.offsetS ?? 0;
  if (!(durationS > 0 && Number.isFinite(durationS)))
    throw new SerError('EARG', 'features', `durationS must be a positive number of seconds (${durationS} given)`);
  if (!(offsetS >= 0 && Number.isFinite(offsetS)))
    throw new SerError('EARG', 'features', `offsetS must be >= 0 seconds (${offsetS} given)`);
  const nMels = config.nMels;
  const frames = framesFor(durationS, config);
  const rowLength = nMels * frames;
  const cacheDir = options.cacheDir === null ? null : resolve(options.cacheDir ?? join(process.cwd(), '.cache', 'features'));
  const key = `${frontEndKey(config)}|duration=${durationS}|offset=${offsetS}`;

  // 1. stat every file; unreadable ones fail now.
  const failed: Array<{ path: string; error: string }> = [];
  const stats = new Map<Utterance, CacheEntry>();
  for (const u of utterances) {
    try {
      const s = statSync(u.path);
      stats.set(u, { path: u.path, size: s.size, mtimeMs: s.mtimeMs });
    } catch (error) {
      failed.push({ path: u.path, error: `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    }
  }

  // 2. one pack per corpus; look every file up.
  const packs = new Map<string, PackIndex>();
  const packFor = (u: Utterance): PackIndex | null => {
    if (cacheDir === null) return null;
    let pack = packs.get(u.corpus);
    if (!pack) {
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
      pack = readPackIndex(join(cacheDir, `${u.corpus}-${hash}.safetensors`), key, rowLength);
      packs.set(u.corpus, pack);
    }
    return pack;
  };
  const output = new Float32Array(stats.size * rowLength);
  const rowOf = new Map<Utterance, number>();
  const toCompute: Utterance[] = [];
  let next = 0;
  for (const [u, stat] of stats) {
    rowOf.set(u, next++);
    const hit = packFor(u)?.rows.get(u.path);
    if (!hit || hit.size !== stat.size || hit.mtimeMs !== stat.mtimeMs) toCompute.push(u);
  }
  let done = 0;
  const total = stats.size;
  let cacheHits = 0;
  // Cache hits, read row by row.
  for (const [corpusName, pack] of packs) {
    if (!pack.valid) continue;
    const fd = openSync(pack.file, 'r');
    try {
      for (const [u, stat] of stats) {
        if (u.corpus !== corpusName) continue;
        const hit = pack.rows.get(u.path);
        if (!hit || hit.size !== stat.size || hit.mtimeMs !== stat.mtimeMs) continue;
        const target = new Uint8Array(output.buffer, (rowOf.get(u) as number) * rowLength * 4, rowLength * 4);
        readSync(fd, target, 0, target.length, pack.dataStart + hit.row * rowLength * 4);
        cacheHits++;
        options.onProgress?.(++done, total);
      }
    } finally {
      closeSync(fd);
    }
  }

  // 3. compute the misses.
  const computedOk = new Set<Utterance>();
  for (const u of toCompute) {
    try {
      const audio = await loadAudio(u.path, { sampleRateHz: config.sampleRateHz });
      output.set(clipLogMel(frontEnd, audio.samples, durationS, offsetS), (rowOf.get(u) as number) * rowLength);
      computedOk.add(u);
    } catch (error) {
      failed.push({ path: u.path, error: error instanceof Error ? error.message : String(error) });
    }
    options.onProgress?.(++done, total);
  }

  // 4. write back: old rows still valid (streamed from the old file) + rows computed now.
  if (cacheDir !== null && computedOk.size > 0) {
    for (const [corpusName, pack] of packs) {
      const fresh = [...computedOk].filter((u) => u.corpus === corpusName);
      if (fresh.length === 0) continue;
      writePack(
        pack,
        key,
        { nMels, frames },
        fresh,
        (u) => stats.get(u) as CacheEntry,
        (u) => output.subarray((rowOf.get(u) as number) * rowLength, ((rowOf.get(u) as number) + 1) * rowLength),
      );
    }
  }

  // 5. compact: drop failed rows, keep input order.
  const decodeFailed = new Set(toCompute.filter((u) => !computedOk.has(u)));
  const kept = [...stats.keys()].filter((u) => !decodeFailed.has(u));
  let features = output;
  if (kept.length !== stats.size) {
    features = new Float32Array(kept.length * rowLength);
    kept.forEach((u, i) => {
      const row = rowOf.get(u) as number;
      features.set(output.subarray(row * rowLength, (row + 1) * rowLength), i * rowLength);
    });
  }
  return { features, nMels, frames, kept, failed, cacheHits, computed: computedOk.size };
}

/** Reads a pack's header (not its data); a missing, foreign or corrupt file gives an empty, invalid index. */
function readPackIndex(file: string, key: string, rowLength: number): PackIndex {
  const empty: PackIndex = { file, rows: new Map(), dataStart: 0, valid: false };
  if (!existsSync(file)) return empty;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const lengthBytes = new Uint8Array(8);
    readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(new DataView(lengthBytes.buffer).getBigUint64(0, true));
    const fileSize = statSync(file).size;
    if (headerLength > fileSize - 8) return empty;
    const headerBytes = new Uint8Array(headerLength);
    readSync(fd, headerBytes, 0, headerLength, 8);
    const header = JSON.parse(new TextDecoder().decode(headerBytes)) as {
      features?: { dtype: string; shape: number[]; data_offsets: [number, number] };
      __metadata__?: Record<string, string>;
    };
    const meta = header.__metadata__;
    const tensor = header.features;
    if (meta?.format !== FORMAT || meta.key !== key || !tensor || tensor.dtype !== 'F32') return empty;
    const [rows = 0, nMels = 0, frames = 0] = tensor.shape;
    const index = JSON.parse(meta.index ?? '[]') as Array<[string, number, number]>;
    const dataStart = 8 + headerLength + tensor.data_offsets[0];
    if (nMels * frames !== rowLength || index.length !== rows || dataStart + rows * rowLength * 4 > fileSize) return empty;
    const map = new Map<string, { row: number; size: number; mtimeMs: number }>();
    index.forEach(([path, size, mtimeMs], row) => {
      map.set(path, { row, size, mtimeMs });
    });
    return { file, rows: map, dataStart, valid: true };
  } catch {
    return empty;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `pack.file` anew (temp file + rename): rows of the old file whose path is not recomputed, then the
 * fresh rows. Streams row by row, so the old file is never loaded whole.
 */
function writePack(
  pack: PackIndex,
  key: string,
  shape: { nMels: number; frames: number },
  fresh: Utterance[],
  statOf: (u: Utterance) => CacheEntry,
  rowData: (u: Utterance) => Float32Array,
): void {
  const rowBytes = shape.nMels * shape.frames * 4;
  const freshPaths = new Set(fresh.map((u) => u.path));
  const carried = pack.valid ? [...pack.rows].filter(([path]) => !freshPaths.has(path)) : [];
  const index: Array<[string, number, number]> = [
    ...carried.map(([path, e]): [string, number, number] => [path, e.size, e.mtimeMs]),
    ...fresh.map((u): [string, number, number] => {
      const s = statOf(u);
      return [s.path, s.size, s.mtimeMs];
    }),
  ];
  const rows = index.length;
  let json = JSON.stringify({
    features: { dtype: 'F32', shape: [rows, shape.nMels, shape.frames], data_offsets: [0, rows * rowBytes] },
    __metadata__: { format: FORMAT, key, index: JSON.stringify(index) },
  });
  const unpadded = new TextEncoder().encode(json).length;
  json += ' '.repeat((8 - (unpadded % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const lengthBytes = new Uint8Array(8);
  new DataView(lengthBytes.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  const dir = resolve(pack.file, '..');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new SerError(
      'EIO',
      'features',
      `${dir}: cannot create the feature cache folder (${(error as NodeJS.ErrnoException).code}); pass another cacheDir`,
    );
  }
  const tmp = `${pack.file}.tmp-${process.pid}`;
  const out = openSync(tmp, 'w');
  try {
    writeSync(out, lengthBytes);
    writeSync(out, headerBytes);
    if (carried.length > 0) {
      const input = openSync(pack.file, 'r');
      const buffer = new Uint8Array(rowBytes);
      try {
        for (const [, entry] of carried) {
          readSync(input, buffer, 0, rowBytes, pack.dataStart + entry.row * rowBytes);
          writeSync(out, buffer);
        }
      } finally {
        closeSync(input);
      }
    }
    for (const u of fresh) {
      const data = rowData(u);
      writeSync(out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  renameSync(tmp, pack.file);
}
