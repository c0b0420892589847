/**
 * `ser batch status` and `ser batch results`: a batch's job counts and failed list, and its results written as
 * JSON lines or CSV, one line per job (the prediction, or the error of a failed file).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Queue } from 'bullmq';
import { csvField } from '../data/csv.js';
import { SerError } from '../errors.js';
import { type FileJob, type FileResult, withBatchQueue } from './queue.js';

/** Jobs read from Redis per call. */
const PAGE = 1000;

export interface FailedFile extends FileJob {
  error: string;
  attempts: number;
}

export interface BatchStatus {
  name: string;
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  /** Every failed file with its error. */
  failed: FailedFile[];
}

async function failedFiles(queue: Queue<FileJob, FileResult>): Promise<FailedFile[]> {
  const failed: FailedFile[] = [];
  for (let start = 0; ; start += PAGE) {
    const jobs = await queue.getFailed(start, start + PAGE - 1);
    for (const job of jobs) failed.push({ ...job.data, error: job.failedReason, attempts: job.attemptsMade });
    if (jobs.length < PAGE) return failed;
  }
}

export function batchStatus(url: string, name: string): Promise<BatchStatus> {
  return withBatchQueue(url, name, async (queue) => {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    const counts = {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
    if (Object.values(counts).every((n) => n === 0))
      throw new SerError('EDATA', 'batch', `no batch named ${name} on this queue (submit it with ser batch submit)`);
    return { name, counts, failed: await failedFiles(queue) };
  });
}

/** Writes one line per job of the batch to `out` (.jsonl or .csv); returns the counts written. */
export function writeResults(url: string, name: string, out: string): Promise<{ results: number; failed: number; pending: number }> {
  const format = out.endsWith('.jsonl') ? 'jsonl' : out.endsWith('.csv') ? 'csv' : null;
  if (!format) throw new SerError('EARG', 'batch', `--out must end in .jsonl or .csv (${out} given)`);
  return withBatchQueue(url, name, async (queue) => {
    const stream = createWriteStream(out);
    const write = async (line: string) => {
      if (!stream.write(`${line}\n`)) await once(stream, 'drain');
    };
    let labels: string[] | null = null;
    let results = 0;
    for (let start = 0; ; start += PAGE) {
      const jobs = await queue.getCompleted(start, start + PAGE - 1);
      for (const job of jobs) {
        const r = job.returnvalue;
        if (format === 'jsonl') await write(JSON.stringify(r));
        else {
          if (labels === null) {
            labels = Object.keys(r.probabilities);
            await write(['path', 'sha256', 'label', ...labels.map((l) => `p_${l}`), 'error'].map(csvField).join(','));
          }
          await write([r.path, r.sha256, r.label, ...labels.map((l) => String(r.probabilities[l] ?? '')), ''].map(csvField).join(','));
        }
        results++;
      }
      if (jobs.length < PAGE) break;
    }
    const failed = await failedFiles(queue);
    if (format === 'csv' && labels === null && failed.length > 0) {
      labels = [];
      await write(['path', 'sha256', 'label', 'error'].map(csvField).join(','));
    }
    for (const f of failed) {
      if (format === 'jsonl') await write(JSON.stringify({ path: f.path, sha256: f.sha256, error: f.error, attempts: f.attempts }));
      else await write([f.path, f.sha256, '', ...(labels ?? []).map(() => ''), f.error].map(csvField).join(','));
    }
    stream.end();
    await once(stream, 'finish');
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
    return { results, failed: failed.length, pending: Object.values(c).reduce((a, b) => a + b, 0) };
  });
}
