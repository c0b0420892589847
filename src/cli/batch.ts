/**
 * `ser batch submit|work|status|results`: classify archives on a BullMQ queue in Redis (src/batch). Any number of
 * `ser batch work` processes, on any machines that reach the Redis and read the submitted paths, share the jobs.
 */
import type { Command } from 'commander';
import { parseNumber } from './options.js';

/** src/batch, imported when used: BullMQ and ioredis would add ~0.9 s to every other command's start. */
const batchApi = () => import('../batch/index.js');

const QUEUE_HELP = 'Redis URL of the queue, e.g. redis://127.0.0.1:6379';

export function register(program: Command): void {
  const batch = program
    .command('batch')
    .description('classify many files on a Redis queue (BullMQ) with workers on any number of machines');

  batch
    .command('submit')
    .description('one job per file of a folder or a manifest CSV (path column), keyed by content hash: resubmitting adds nothing')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .requiredOption('--name <batch>', 'batch name (letters, digits, . _ -)')
    .option('--attempts <n>', 'tries per file before it is listed as failed', '3')
    .option('--backoff-ms <ms>', 'first retry delay, doubled at each retry', '1000')
    .argument('<source>', 'folder of audio files (recursive) or manifest .csv')
    .action(async (source: string, flags: { queue: string; name: string; attempts: string; backoffMs: string }) => {
      const s = await (await batchApi()).submitBatch(flags.queue, flags.name, source, {
        attempts: parseNumber('--attempts', flags.attempts, { integer: true, min: 1 }),
        backoffMs: parseNumber('--backoff-ms', flags.backoffMs, { min: 0 }),
      });
      process.stdout.write(
        `ser batch: ${flags.name}: ${s.files} file(s), ${s.distinct} distinct content(s), ${s.added} new job(s)` +
          (s.distinct > s.added ? ` (${s.distinct - s.added} already in the batch)` : '') +
          '\n',
      );
    });

  batch
    .command('work')
    .description('process jobs until stopped (SIGTERM/SIGINT: finish the jobs in hand, then exit)')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--name <batch...>', 'batches to work on (default: every batch, including later ones)')
    .option('--concurrency <n>', 'jobs at once per batch (they share ONNX Runtime calls)', '8')
    .option('--model <run_dir>', "run directory made by ser train, or 'default' (the shipped model)")
    .option('--threads <n>', 'ONNX Runtime threads (default 2)')
    .option('--lock-ms <ms>', "job lock: how soon a dead worker's jobs go to another worker", '30000')
    .option('--stalled-ms <ms>', 'how often to look for the jobs of dead workers', '30000')
    .option('--quiet', 'no line per job')
    .action(
      async (flags: {
        queue: string;
        name?: string[];
        concurrency: string;
        model?: string;
        threads?: string;
        lockMs: string;
        stalledMs: string;
        quiet?: boolean;
      }) => {
        let done = 0;
        const workers = await (await batchApi()).startWorkers(flags.queue, {
          names: flags.name,
          concurrency: parseNumber('--concurrency', flags.concurrency, { integer: true, min: 1 }),
          model: flags.model === 'default' ? undefined : flags.model,
          threads: flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 }),
          lockMs: parseNumber('--lock-ms', flags.lockMs, { integer: true, min: 100 }),
          stalledMs: parseNumber('--stalled-ms', flags.stalledMs, { integer: true, min: 100 }),
          onJob: (name, job, error) => {
            done++;
            if (flags.quiet) return;
            if (error) process.stderr.write(`ser batch: ${name}: ${job.data.path}: ${error.message} (attempt ${job.attemptsMade})\n`);
            else process.stdout.write(`${name} ${job.data.path} ${(job.returnvalue as { label: string }).label}\n`);
          },
        });
        process.stderr.write(
          `ser batch: working on ${workers.batches.size > 0 ? [...workers.batches].join(', ') : 'every batch (none yet)'}\n`,
        );
        const stop = (signal: NodeJS.Signals) => {
          process.stderr.write(`ser batch: ${signal}: finishing the jobs in hand\n`);
          void workers.close().then(() => {
            process.stderr.write(`ser batch: stopped after ${done} job(s)\n`);
            process.exit(0);
          });
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      },
    );

  batch
    .command('status')
    .description("a batch's job counts and every failed file with its error")
    .requiredOption('--queue <url>', QUEUE_HELP)
    .requiredOption('--name <batch>', 'batch name')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { queue: string; name: string; json?: boolean }) => {
      const status = await (await batchApi()).batchStatus(flags.queue, flags.name);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return;
      }
      const c = status.counts;
      process.stdout.write(
        `${status.name}: ${c.completed} done, ${c.failed} failed, ${c.active} running, ${c.waiting} waiting, ${c.delayed} waiting to retry\n`,
      );
      for (const f of status.failed) process.stdout.write(`  failed: ${f.path}: ${f.error} (${f.attempts} attempt(s))\n`);
    });

  batch
    .command('results')
    .description('write one line per file: its prediction, or the error of a failed file')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .requiredOption('--name <batch>', 'batch name')
    .requiredOption('--out <file>', 'FILE.jsonl or FILE.csv')
    .action(async (flags: { queue: string; name: string; out: string }) => {
      const r = await (await batchApi()).writeResults(flags.queue, flags.name, flags.out);
      process.stdout.write(
        `ser batch: ${flags.out}: ${r.results} result(s), ${r.failed} failed` + (r.pending > 0 ? `, ${r.pending} not done yet` : '') + '\n',
      );
    });
}
