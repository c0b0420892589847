/**
 * The batch queue on Redis through BullMQ: one BullMQ queue per batch (its `--name`), keys under `ser:` so they
 * sit apart from other BullMQ users of the same Redis, and a set `ser:batches` of every batch name that workers
 * poll to find work. A job is one file, its id the SHA-256 of the file's bytes: submitting a file twice (or two
 * copies of it) makes one job, and BullMQ stores exactly one result per job id.
 */
import { Queue } from 'bullmq';
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

/**
 * A Redis connection for BullMQ. Workers (`long`) retry for ever, as BullMQ needs for its blocking calls (they
 * outlive a Redis restart); commands give up after about a second so that a wrong URL is an error, not a hang.
 */
export function connect(url: string, options: { long?: boolean } = {}): Redis {
  if (!/^rediss?:\/\//.test(url))
    throw new SerError('EARG', 'batch', `--queue must be a redis:// or rediss:// URL (${JSON.stringify(url)} given)`);
  if (options.long) return new Redis(url, { maxRetriesPerRequest: null });
  return new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: (times) => (times > 5 ? null : 200) });
}

/** Runs `use` on batch `name`'s queue, then closes it; a Redis failure becomes SerError EIO naming the URL. */
export async function withBatchQueue<T>(
  url: string,
  name: string,
  use: (queue: Queue<FileJob, FileResult>, connection: Redis) => Promise<T>,
): Promise<T> {
  checkBatchName(name);
  const connection = connect(url);
  connection.on('error', () => {}); // reported through the failing command
  const queue = new Queue<FileJob, FileResult>(name, { connection, prefix: KEY_PREFIX });
  queue.on('error', () => {}); // likewise
  try {
    return await use(queue, connection);
  } catch (error) {
    if (error instanceof SerError) throw error;
    throw new SerError('EIO', 'batch', `${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(error as Error).message} (is Redis running there?)`, {
      cause: error,
    });
  } finally {
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

/** Checks a batch name: a BullMQ queue name, so letters, digits, '.', '_' and '-' only. */
export function checkBatchName(name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
    throw new SerError('EARG', 'batch', `a batch name is 1-100 letters, digits, '.', '_' or '-' (${JSON.stringify(name)} given)`);
  }
  return name;
}
