/**
 * `ser batch submit`: one job per file of a folder (recursively, audio extensions) or of a manifest CSV (its
 * `path` or `file` column, else the first; relative paths from the manifest's folder), keyed by the SHA-256 of the
 * file's bytes. Jobs retry with exponential back-off, then stay in the batch's failed list with their error.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { Queue } from 'bullmq';
import { parseCsvRecords } from '../data/csv.js';
import { SerError } from '../errors.js';
import { BATCHES_KEY, type FileJob, checkBatchName, withBatchQueue } from './queue.js';

const AUDIO_EXTENSIONS = new Set(['.wav', '.wave', '.aif', '.aiff', '.aifc', '.flac', '.mp3', '.ogg', '.oga', '.opus']);
/** Jobs per addBulk call. */
const CHUNK = 500;

export interface SubmitOptions {
  /** Tries per file before it lands in the failed list (default 3). */
  attempts?: number;
  /** First back-off in milliseconds, doubled at each retry (default 1000). */
  backoffMs?: number;
}

export interface SubmitSummary {
  /** Files listed. */
  files: number;
  /** Distinct contents among them (one job each). */
  distinct: number;
  /** Jobs that were not in the batch already. */
  added: number;
}

/** The audio files of a folder (recursively, sorted) or the paths a manifest CSV lists. */
export function listFiles(source: string): string[] {
  const info = statSync(source, { throwIfNoEntry: false });
  if (!info) throw new SerError('EIO', 'batch', `${source}: no such folder or manifest`);
  if (info.isDirectory()) {
    const files = readdirSync(source, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => resolve(e.parentPath, e.name))
      .sort();
    if (files.length === 0)
      throw new SerError('EDATA', 'batch', `${source}: no audio files (${[...AUDIO_EXTENSIONS].join(' ')}) in this folder`);
    return files;
  }
  const { header, records } = parseCsvRecords(readFileSync(source, 'utf8'), source);
  const column = header.find((h) => h === 'path') ?? header.find((h) => h === 'file') ?? header[0];
  if (column === undefined || records.length === 0)
    throw new SerError('EDATA', 'batch', `${source}: the manifest lists no files (a CSV with a 'path' column expected)`);
  return records.map((r) => resolve(dirname(source), r[column] ?? ''));
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', (error) =>
        reject(new SerError('EIO', 'batch', `${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error.message})`)),
      )
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

export async function submitBatch(url: string, name: string, source: string, options: SubmitOptions = {}): Promise<SubmitSummary> {
  checkBatchName(name);
  const files = listFiles(source);
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 1000;
  const byHash = new Map<string, FileJob>();
  for (const path of files) {
    const sha256 = await sha256File(path);
    if (!byHash.has(sha256)) byHash.set(sha256, { path, sha256 });
  }
  return withBatchQueue(url, name, async (queue, connection) => {
    const before = await totalJobs(queue);
    const jobs = [...byHash.values()];
    for (let first = 0; first < jobs.length; first += CHUNK) {
      await queue.addBulk(
        jobs.slice(first, first + CHUNK).map((data) => ({
          name: 'classify',
          data,
          opts: {
            jobId: data.sha256,
            attempts,
            backoff: { type: 'exponential', delay: backoffMs },
            removeOnComplete: false,
            removeOnFail: false,
          },
        })),
      );
    }
    await connection.sadd(BATCHES_KEY, name);
    return { files: files.length, distinct: byHash.size, added: (await totalJobs(queue)) - before };
  });
}

/** Jobs of the batch in any state (a job moving between states does not change the sum). */
export async function totalJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
