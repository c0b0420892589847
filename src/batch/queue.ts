/**
 * The batch queue on Redis through BullMQ: one BullMQ queue per batch (its `--name`), keys under `ser:` so they
 * sit apart from other BullMQ users of the same Redis, and a set `ser:batches` of every batch name that workers
 * poll to find work. A job is one file, its id the SHA-256 of the file's bytes: submitting a file twice (or two
 * copies of it) makes one job, and BullMQ stores exactly one result per job id.
 */
import { Redis } from 'ioredis';
import { SerError } from '../errors.js';

/** BullMQ key prefix of speech-emotion's queues. */
export const KEY_PREFIX = 'ser';
/** Redis set of the batch names ever submitted (workers without --name work on all of them). */
export const BATCHES_KEY = `${KEY_PREFIX}:batches`;

/** What a job carries: the file to classify (a path every worker can read) and its content hash. */
export interface FileJob {
  path: string;
  sha256: string;
}

/** A job's stored result: the file and its LabelledPrediction (label, probabilities in the model's class order). */
export interface FileResult extends FileJob {
  label: string;
  probabilities: Record<string, number>;
}

/** A Redis connection for BullMQ (which needs maxRetriesPerRequest null for its blocking calls). */
export function connect(url: string): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new SerError('EARG', 'batch', `--queue must be a redis:// or rediss:// URL (${JSON.stringify(url)} given)`);
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** Checks a batch name: a BullMQ queue name, so letters, digits, '.', '_' and '-' only. */
export function checkBatchName(name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
    throw new SerError('EARG', 'batch', `a batch name is 1-100 letters, digits, '.', '_' or '-' (${JSON.stringify(name)} given)`);
  }
  return name;
}
