/**
 * Log-mel features for a list of utterances, computed once and reused across runs. Two kinds:
 *
 * - clips (`extractFeatures`): loadAudio (mono, resampled to the front end's rate) -> clipLogMel: skip `offsetS`
 *   -> fixLength to `durationS` (keep the start, zero-pad the end) -> LogMelFrontEnd.logMel -> [nMels, frames].
 *   Runs made before input policies (config.json without `input`) train and predict on these.
 * - utterances (`extractUtteranceLogMels`): loadAudio -> utteranceLogMel: the first `maxS` seconds, log-mel dB
 *   without the top_db clamp -> [nMels, T] with T varying per file (src/features/utterance.ts makes the model's
 *   windows from them, at training and inference alike).
 *
 * Cache layout: one file per (corpus, kind and its parameters, front-end key) in `cacheDir`, e.g.
 *   ~/.cache/speech-emotion/ravdess-3f2a9c01d4e5.safetensors
 * a safetensors file with one flat F32 tensor `features` (the rows one after another, each [nMels, frames]
 * row-major) and in `__metadata__` the key and an index (JSON) of [path, sizeBytes, sha256, offset, length] per
 * row (offset and length in values; sha256 of the file's bytes, hex). A row is reused when the path, size and content
 * hash of the audio file still match (a touched but unchanged file is a hit; a rewritten one with its old size and
 * mtime is not);
 * other parameters are another file, so changing any of them recomputes everything. Rows are read from and
 * written to disk one by one, so memory holds only the requested features. Decode failures are not cached: they
 * are retried on the next run. A pack is written to `<pack>.tmp-<pid>` and renamed; temp files whose process is gone
 * (a crash mid-write) are removed when the folder is next used (src/io/atomic.ts sweepStaleTempFiles).
 *
 * Rows not in the cache are computed by feature-rows.ts on `jobs` worker threads (feature-worker.ts, a
 * src/io/worker-pool.ts WorkerPool), at most two files per worker ahead of the one taken next, and taken in input
 * order: the rows, the cache files, the failures, warnings and progress calls are those of the calling thread alone
 * (`jobs` 0) to the bit.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SerError } from '../errors.js';
import { sweepStaleTempFiles, writeError } from '../io/atomic.js';
import { WorkerPool, checkJobs, defaultJobs } from '../io/worker-pool.js';
import { type FrontEndConfig, LogMelFrontEnd, framesFor, frontEndKey } from '../features/index.js';
import type { Spectrogram } from '../features/front-end.js';
import type { Utterance } from './corpus.js';
import { FeatureRowMaker, type RowOutcome, type RowRecipe, type SkippedFile } from './feature-rows.js';

export type { SkippedFile } from './feature-rows.js';

/** Options of {@link extractFeatures}. */
export interface ExtractOptions {
  /** The front end, or overrides of DEFAULT_FRONT_END. Default: the paper's front end. */
  frontEnd?: LogMelFrontEnd | Partial<FrontEndConfig>;
  /** Clip length in seconds after cropping/padding; default 3 (188 frames at the default front end). */
  durationS?: number;
  /** Seconds skipped at the start of each clip before the `durationS` window; default 0. */
  offsetS?: number;
  /** Cache folder; default `defaultCacheDir()`; null: no cache. */
  cacheDir?: string | null;
  /** Called after each clip: done of total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Leave out recordings src/audio/vad.ts assessAudio flags (no speech, too short), as failures with their `flag`
   * and the reason (`ser eval` and `ser train` screen: such clips get no emotion, and teach none). Default false
   * (every decodable clip). Part of the cache key.
   */
  screen?: boolean;
  /**
   * Worker threads computing the rows not in the cache (default: src/io/worker-pool.ts defaultJobs(), one per core
   * up to 4; never more than files); 0: all on the calling thread. The same results either way.
   */
  jobs?: number;
}

/** The result of {@link extractFeatures}. */
export interface ExtractedFeatures {
  /** Row-major [kept.length, nMels, frames]. */
  features: Float32Array;
  nMels: number;
  frames: number;
  /** Utterances with features, in input order; row i of `features` belongs to kept[i]. */
  kept: Utterance[];
  /** Utterances skipped, with the reason (decode error, unreadable file, and with `screen` unusable audio). */
  failed: SkippedFile[];
  /** Rows read from the cache and rows computed. */
  cacheHits: number;
  computed: number;
  /** What decoding worked around in the files decoded by this call (a truncated file decoded as far as it goes). */
  warnings: string[];
}

/**
 * One-line summary of the failures, e.g. "2 of 1080 files skipped: a.wav (decode: ...); b.wav (...)"; `total`
 * (default: failed + kept) when `failed` is a subset of the failures (the screened files reported apart).
 */
export function summarizeFailures(
  result: Pick<ExtractedFeatures, 'failed' | 'kept'>,
  shown = 5,
  total = result.failed.length + result.kept.length,
): string {
  if (result.failed.length === 0) return `all ${total} files decoded`;
  const list = result.failed.slice(0, shown).map((f) => `${f.path}: ${f.error}`);
  const more = result.failed.length > shown ? `; and ${result.failed.length - shown} more` : '';
  return `${result.failed.length} of ${total} files skipped: ${list.join('; ')}${more}`;
}

/**
 * Fixed-length clip features of `utterances` (see the module comment). Never throws for one bad file: it goes to
 * `failed` and the rest continue. Throws EARG for invalid options and EIO when the cache folder cannot be written.
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
  const jobs = checkJobs(options.jobs ?? defaultJobs(), 'features');
  const nMels = config.nMels;
  const frames = framesFor(durationS, config);
  const rowLength = nMels * frames;
  const screen = options.screen ?? false;
  const engine = frontEnd.engine === 'typescript' ? { engine: 'typescript' as const } : {};
  const rows = await cachedRows(utterances, {
    key: `${frontEndKey(config)}|duration=${durationS}|offset=${offsetS}${screen ? SCREEN_KEY : ''}`,
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
    maker: new FeatureRowMaker({ kind: 'clip', frontEnd: config, ...engine, durationS, offsetS, screen }, frontEnd),
    jobs,
  });
  const features = new Float32Array(rows.kept.length * rowLength);
  for (const [i, row] of rows.values.entries()) features.set(row, i * rowLength);
  const { kept, failed, cacheHits, computed, warnings } = rows;
  return { features, nMels, frames, kept, failed, cacheHits, computed, warnings };
}

/** Options of {@link extractUtteranceLogMels}. */
export interface ExtractUtteranceOptions {
  /** The front end; its topDb is ignored (utterance log-mels are unclamped). Default: the paper's front end. */
  frontEnd?: Partial<FrontEndConfig>;
  /** Seconds read from the start of each file. */
  maxS: number;
  /** Cache folder; default `defaultCacheDir()`; null: no cache. */
  cacheDir?: string | null;
  onProgress?: (done: number, total: number) => void;
  /** As ExtractOptions.screen. */
  screen?: boolean;
  /** As ExtractOptions.jobs. */
  jobs?: number;
}

/** The result of {@link extractUtteranceLogMels}: `logMels[i]` ([nMels, T_i] dB, no top_db clamp) belongs to kept[i]. */
export interface ExtractedUtterances {
  logMels: Spectrogram[];
  kept: Utterance[];
  failed: SkippedFile[];
  cacheHits: number;
  computed: number;
  /** What decoding worked around in the files decoded by this call (a truncated file decoded as far as it goes). */
  warnings: string[];
}

/** Whole-utterance log-mels (see the module comment); failures and errors as extractFeatures. */
export async function extractUtteranceLogMels(
  utterances: readonly Utterance[],
  options: ExtractUtteranceOptions,
): Promise<ExtractedUtterances> {
  const unclamped = new LogMelFrontEnd({ ...options.frontEnd, topDb: null });
  const config = unclamped.config;
  if (!(options.maxS > 0 && Number.isFinite(options.maxS)))
    throw new SerError('EARG', 'features', `maxS must be a positive number of seconds (${options.maxS} given)`);
  const jobs = checkJobs(options.jobs ?? defaultJobs(), 'features');
  const screen = options.screen ?? false;
  const rows = await cachedRows(utterances, {
    key: `${frontEndKey(config)}|utterance|max=${options.maxS}${screen ? SCREEN_KEY : ''}`,
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
    maker: new FeatureRowMaker({ kind: 'utterance', frontEnd: config, maxS: options.maxS, screen }, unclamped),
    jobs,
  });
  const logMels = rows.values.map((data) => ({ data, nMels: config.nMels, frames: data.length / config.nMels }));
  const { kept, failed, cacheHits, computed, warnings } = rows;
  return { logMels, kept, failed, cacheHits, computed, warnings };
}

/** Cache key part of screened features (rows of flagged files are never written, so a screened pack holds none). */
const SCREEN_KEY = '|screen=vad1';

/** sha256 (hex) of a file's bytes, read 1 MB at a time (memory does not grow with the file). */
function contentHash(path: string): string {
  const hash = createHash('sha256');
  const buffer = new Uint8Array(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

interface CacheEntry {
  path: string;
  size: number;
  /** sha256 of the file's bytes, hex. */
  hash: string;
}

interface PackRow {
  size: number;
  hash: string;
  offset: number;
  length: number;
}

interface PackIndex {
  file: string;
  rows: Map<string, PackRow>;
  dataStart: number;
  /** Valid when the file exists and matches the key. */
  valid: boolean;
}

const FORMAT = 'ser-feature-cache/3';

/** The feature cache folder when none is given: $XDG_CACHE_HOME/speech-emotion, else ~/.cache/speech-emotion. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'speech-emotion');
}

/**
 * The rows of each utterance, through the cache: hash every file (unreadable ones fail; not without a cache), read
 * the rows whose file is unchanged, compute the others (`maker`, on `jobs` workers), write new rows back, and return
 * the kept utterances in input order with their rows.
 */
async function cachedRows(
  utterances: readonly Utterance[],
  options: {
    key: string;
    cacheDir: string | null | undefined;
    onProgress: ((done: number, total: number) => void) | undefined;
    /** Makes the rows not in the cache (on the calling thread; the workers make their own from its recipe). */
    maker: FeatureRowMaker;
    /** Worker threads; 0: none. */
    jobs: number;
  },
): Promise<{
  values: Float32Array[];
  kept: Utterance[];
  failed: SkippedFile[];
  cacheHits: number;
  computed: number;
  warnings: string[];
}> {
  const cacheDir = options.cacheDir === null ? null : resolve(options.cacheDir ?? defaultCacheDir());
  // Packs a crashed run was writing (*.tmp-PID of processes that are gone) would stay forever: remove them.
  if (cacheDir !== null) sweepStaleTempFiles(cacheDir);
  const failed: SkippedFile[] = [];
  const stats = new Map<Utterance, CacheEntry>();
  for (const u of utterances) {
    try {
      const size = statSync(u.path).size;
      stats.set(u, { path: u.path, size, hash: cacheDir === null ? '' : contentHash(u.path) });
    } catch (error) {
      failed.push({ path: u.path, error: `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
    }
  }
  // One pack per corpus.
  const packs = new Map<string, PackIndex>();
  const packFor = (u: Utterance): PackIndex | null => {
    if (cacheDir === null) return null;
    let pack = packs.get(u.corpus);
    if (!pack) {
      const hash = createHash('sha256').update(options.key).digest('hex').slice(0, 12);
      pack = readPackIndex(join(cacheDir, `${u.corpus}-${hash}.safetensors`), options.key);
      packs.set(u.corpus, pack);
    }
    return pack;
  };
  const hitOf = (u: Utterance, stat: CacheEntry): PackRow | undefined => {
    const hit = packFor(u)?.rows.get(u.path);
    return hit && hit.size === stat.size && hit.hash === stat.hash ? hit : undefined;
  };
  const hits = new Map<Utterance, PackRow>();
  for (const [u, stat] of stats) {
    const hit = hitOf(u, stat);
    if (hit) hits.set(u, hit);
  }
  const values = new Map<Utterance, Float32Array>();
  let done = 0;
  const total = stats.size;
  let cacheHits = 0;
  for (const [corpusName, pack] of packs) {
    if (!pack.valid) continue;
    const fd = openSync(pack.file, 'r');
    try {
      for (const [u, hit] of hits) {
        if (u.corpus !== corpusName) continue;
        const row = new Float32Array(hit.length);
        readSync(fd, new Uint8Array(row.buffer), 0, hit.length * 4, pack.dataStart + hit.offset * 4);
        values.set(u, row);
        cacheHits++;
        options.onProgress?.(++done, total);
      }
    } finally {
      closeSync(fd);
    }
  }
  const fresh: Utterance[] = [];
  const warnings: string[] = [];
  const missing = [...stats.keys()].filter((u) => !values.has(u));
  // One file has nothing to overlap: a worker would only add its start (~0.1 s).
  const pool = options.jobs > 0 && missing.length > 1 ? rowPool(options.maker.recipe, Math.min(options.jobs, missing.length)) : null;
  try {
    const paths = missing.map((u) => u.path);
    const outcomes = pool ? pool.runInOrder(paths) : rowsInOrder(options.maker, paths);
    let i = 0;
    for await (const outcome of outcomes) {
      const u = missing[i++] as Utterance;
      warnings.push(...outcome.warnings);
      if ('row' in outcome) {
        values.set(u, outcome.row);
        fresh.push(u);
      } else failed.push(outcome.skipped);
      options.onProgress?.(++done, total);
    }
  } finally {
    await pool?.close();
  }
  if (cacheDir !== null && fresh.length > 0) {
    for (const [corpusName, pack] of packs) {
      const mine = fresh.filter((u) => u.corpus === corpusName);
      if (mine.length > 0)
        writePack(
          pack,
          options.key,
          mine,
          (u) => stats.get(u) as CacheEntry,
          (u) => values.get(u) as Float32Array,
        );
    }
  }
  const kept = [...stats.keys()].filter((u) => values.has(u));
  return { values: kept.map((u) => values.get(u) as Float32Array), kept, failed, cacheHits, computed: fresh.length, warnings };
}

/** `size` workers making the rows of `recipe` (feature-worker.ts). */
function rowPool(recipe: RowRecipe, size: number): WorkerPool<string, RowOutcome> {
  return new WorkerPool({
    module: 'feature-worker',
    callerUrl: import.meta.url,
    size,
    workerData: { recipe },
    errorModule: 'features',
    role: 'feature',
  });
}

/** The rows of `paths` made one after another on the calling thread. */
async function* rowsInOrder(maker: FeatureRowMaker, paths: readonly string[]): AsyncGenerator<RowOutcome> {
  for (const path of paths) yield await maker.rowOf(path);
}

/** Reads a pack's header (not its data); a missing, foreign or corrupt file gives an empty, invalid index. */
function readPackIndex(file: string, key: string): PackIndex {
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
    if (meta?.format !== FORMAT || meta.key !== key || !tensor || tensor.dtype !== 'F32' || tensor.shape.length !== 1) return empty;
    const values = tensor.shape[0] ?? 0;
    const index = JSON.parse(meta.index ?? '[]') as Array<[string, number, string, number, number]>;
    const dataStart = 8 + headerLength + tensor.data_offsets[0];
    if (dataStart + values * 4 > fileSize) return empty;
    const map = new Map<string, PackRow>();
    for (const [path, size, hash, offset, length] of index) {
      if (!(offset >= 0 && length >= 0 && offset + length <= values)) return empty;
      map.set(path, { size, hash, offset, length });
    }
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
  fresh: Utterance[],
  statOf: (u: Utterance) => CacheEntry,
  rowData: (u: Utterance) => Float32Array,
): void {
  const freshPaths = new Set(fresh.map((u) => u.path));
  const carried = pack.valid ? [...pack.rows].filter(([path]) => !freshPaths.has(path)) : [];
  const index: Array<[string, number, string, number, number]> = [];
  let offset = 0;
  for (const [path, row] of carried) {
    index.push([path, row.size, row.hash, offset, row.length]);
    offset += row.length;
  }
  for (const u of fresh) {
    const s = statOf(u);
    const length = rowData(u).length;
    index.push([s.path, s.size, s.hash, offset, length]);
    offset += length;
  }
  let json = JSON.stringify({
    features: { dtype: 'F32', shape: [offset], data_offsets: [0, offset * 4] },
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
      `${dir}: cannot create the feature cache folder (${(error as NodeJS.ErrnoException).code}); choose another one (ser: --cache DIR, or --no-cache; library: the cacheDir option)`,
    );
  }
  const tmp = `${pack.file}.tmp-${process.pid}`;
  try {
    const out = openSync(tmp, 'w');
    try {
      writeSync(out, lengthBytes);
      writeSync(out, headerBytes);
      if (carried.length > 0) {
        const input = openSync(pack.file, 'r');
        try {
          for (const [, row] of carried) {
            const buffer = new Uint8Array(row.length * 4);
            readSync(input, buffer, 0, buffer.length, pack.dataStart + row.offset * 4);
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
  } catch (error) {
    rmSync(tmp, { force: true });
    throw writeError(pack.file, error);
  }
}
