/**
 * `ser serve`: the model as an HTTP service (src/serve/server.ts). Prints `listening on URL` once it accepts
 * requests; SIGTERM or SIGINT drains (answers the requests in flight, refuses new ones) and exits 0.
 */
import type { Command } from 'commander';
import { parseNumber } from './options.js';

interface ServeFlags {
  model?: string;
  host: string;
  port: string;
  maxBatch?: string;
  maxWaitMs: string;
  maxBodyMb: string;
  maxDurationS: string;
  threads?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the model over HTTP: POST /v1/classify, GET /v1/model, /healthz, /metrics')
    .option('--model <run_dir>', "run directory made by ser train, or 'default' (the shipped model)")
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--max-batch <n>', 'most model inputs per ONNX Runtime call (default: the model batch, 32)')
    .option('--max-wait-ms <ms>', 'how long a first request waits for others to share its call', '5')
    .option('--max-body-mb <mb>', 'largest request body in MB (413 beyond)', '25')
    .option('--max-duration-s <s>', 'longest recording in seconds (413 beyond)', '600')
    .option('--threads <n>', 'ONNX Runtime threads (default 2)')
    .action(async (flags: ServeFlags) => {
      // Imported when used: Fastify and prom-client would add ~0.4 s to every other command's start.
      const { startServer } = await import('../serve/index.js');
      const service = await startServer({
        model: flags.model === 'default' ? undefined : flags.model,
        host: flags.host,
        port: parseNumber('--port', flags.port, { integer: true, min: 0 }),
        maxBatch: flags.maxBatch === undefined ? undefined : parseNumber('--max-batch', flags.maxBatch, { integer: true, min: 1 }),
        maxWaitMs: parseNumber('--max-wait-ms', flags.maxWaitMs, { min: 0 }),
        maxBodyBytes: Math.round(parseNumber('--max-body-mb', flags.maxBodyMb, { min: 0.001 }) * 1024 * 1024),
        maxDurationS: parseNumber('--max-duration-s', flags.maxDurationS, { min: 0.1 }),
        threads: flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 }),
      });
      process.stdout.write(`ser serve: listening on ${service.url}\n`);
      const drain = (signal: NodeJS.Signals) => {
        process.stderr.write(`ser serve: ${signal}: draining requests in flight\n`);
        service.close().then(
          () => {
            process.stderr.write('ser serve: stopped\n');
            process.exit(0);
          },
          (error: unknown) => {
            process.stderr.write(`ser serve: error while stopping: ${String(error)}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', drain);
      process.once('SIGINT', drain);
    });
}
