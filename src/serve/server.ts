/**
 * `ser serve`: the model as an HTTP service on Fastify.
 *
 *   POST /v1/classify            audio bytes (any format decodeAudio reads) -> {label, probabilities, durationS}
 *   POST /v1/classify?segments=1&hop=S   -> the same plus `segments`, windows every S seconds (predictSegments)
 *   GET  /v1/model               labels, config.json, the model card, limits and batching
 *   GET  /healthz                {"status": "ok"}
 *   GET  /metrics                Prometheus text (metrics.ts)
 *
 * Concurrent requests share ONNX Runtime calls (BatchedClassifier). Every error is JSON {"error", "code"}: 413
 * ELIMIT for a body or a recording over the limits, 422 for audio that cannot be used (EDECODE, EAUDIO: garbage,
 * truncated, empty, silent), 400 EARG for bad query parameters. A bad request never takes the server down.
 * `close()` drains: it stops accepting connections and resolves once in-flight requests have been answered.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { assessAudio, loadAudioBytes } from '../audio/index.js';
import { SerError } from '../errors.js';
import { BatchedClassifier, type BatchingOptions } from '../infer/batched-classifier.js';
import { RunModel } from '../infer/inference.js';
import { ServiceMetrics } from './metrics.js';

export interface ServeOptions extends Pick<BatchingOptions, 'maxBatch' | 'maxWaitMs'> {
  /** Run directory (default: the shipped model). */
  model?: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8080; 0: any free port, see ServiceHandle.url). */
  port?: number;
  /** Largest request body in bytes (default 25 MB). */
  maxBodyBytes?: number;
  /** Longest recording in seconds (default 600). */
  maxDurationS?: number;
  /** ONNX Runtime intra-op threads (default 2). */
  threads?: number;
}

export interface ServiceHandle {
  /** http://host:port the service listens on. */
  url: string;
  app: FastifyInstance;
  /** Stops accepting connections, answers the requests in flight, then releases the model. */
  close(): Promise<void>;
}

/** An error answered with an HTTP status; `code` is a SerError code or ELIMIT. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startServer(options: ServeOptions = {}): Promise<ServiceHandle> {
  const maxBodyBytes = options.maxBodyBytes ?? 25 * 1024 * 1024;
  const maxDurationS = options.maxDurationS ?? 600;
  const model = await RunModel.load(options.model, { threads: options.threads });
  const metrics = new ServiceMetrics();
  const classifier = new BatchedClassifier(model, {
    maxBatch: options.maxBatch,
    maxWaitMs: options.maxWaitMs,
    onBatch: (clips, seconds) => {
      metrics.batchSize.observe(clips);
      metrics.batchDuration.observe(seconds);
    },
  });
  const cardPath = join(model.runDir, 'MODEL_CARD.md');
  const modelInfo = {
    runDir: model.runDir,
    labels: model.config.labels,
    config: model.config,
    modelCard: existsSync(cardPath) ? readFileSync(cardPath, 'utf8') : null,
    limits: { maxBodyBytes, maxDurationS },
    batching: { maxBatch: classifier.maxBatch, maxWaitMs: classifier.maxWaitMs },
  };

  const app = Fastify({ logger: false, bodyLimit: maxBodyBytes, forceCloseConnections: 'idle' });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  let draining = false;
  // While draining, each answer closes its connection, so that close() need not wait for keep-alive timeouts.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  app.addHook('onRequest', async (request) => {
    metrics.inFlight.inc({ route: request.routeOptions.url ?? 'unmatched' });
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.inFlight.dec({ route });
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });
  const sendError = (reply: FastifyReply, status: number, code: string, message: string) => {
    metrics.errors.inc({ code });
    return reply.code(status).send({ error: message, code });
  };
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HttpError) return sendError(reply, error.status, error.code, error.message);
    if (error instanceof SerError) {
      const status = error.code === 'EARG' ? 400 : error.code === 'EDECODE' || error.code === 'EAUDIO' ? 422 : 500;
      return sendError(reply, status, error.code, error.message);
    }
    const fastifyError = error as { code?: string; statusCode?: number; message?: string };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        413,
        'ELIMIT',
        `serve: the request body is over the limit of ${maxBodyBytes} bytes (--max-body-mb); send a shorter recording or split it`,
      );
    }
    const status = fastifyError.statusCode && fastifyError.statusCode < 500 ? fastifyError.statusCode : 500;
    return sendError(reply, status, status === 500 ? 'EINTERNAL' : 'EREQUEST', `serve: ${fastifyError.message ?? String(error)}`);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      404,
      'ENOTFOUND',
      `serve: no route ${request.method} ${request.url} (routes: POST /v1/classify, GET /v1/model, /healthz, /metrics)`,
    ),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/v1/model', async () => modelInfo);
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.post<{ Querystring: { segments?: string; hop?: string } }>('/v1/classify', async (request) => {
    const { segments, hopS } = parseClassifyQuery(request.query);
    const body = request.body;
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(0);
    const audio = await loadAudioBytes(bytes, 'request body', { sampleRateHz: model.config.frontEnd.sampleRateHz });
    if (audio.durationS > maxDurationS) {
      throw new HttpError(
        413,
        'ELIMIT',
        `serve: the recording lasts ${audio.durationS.toFixed(1)} s, over the limit of ${maxDurationS} s (--max-duration-s); split it`,
      );
    }
    // The project's one rule for unusable audio (src/audio/vad.ts), as ser predict applies it: on the part the model
    // reads for one label, on the whole recording for a timeline.
    const judged = segments ? audio.samples : model.inputs.readPart(audio.samples);
    const assessment = assessAudio(judged, audio.sampleRateHz, 'request body');
    if (assessment.kind === 'error') throw assessment.error;
    if (assessment.kind === 'flagged') throw new HttpError(422, 'EAUDIO', `serve: request body: ${assessment.flag}: ${assessment.reason}`);
    const durationS = audio.durationS;
    if (segments) return { ...(await classifier.classifySegments(audio.samples, hopS)), durationS };
    return { ...(await classifier.classify(audio.samples)), durationS };
  });

  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  try {
    await app.listen({ host, port });
  } catch (error) {
    await model.release();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use (choose another with --port, or 0 for any free one)' : (error as Error).message;
    throw new SerError('EIO', 'serve', `cannot listen on ${host}:${port}: ${why}`, { cause: error });
  }
  const address = app.server.address();
  const url =
    typeof address === 'object' && address
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : String(address);
  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    close: () => {
      draining = true;
      closing ??= app.close().then(() => model.release());
      return closing;
    },
  };
}

/** `segments` (0/1/true/false) and `hop` (seconds, only with segments) of /v1/classify's query. */
function parseClassifyQuery(query: { segments?: string; hop?: string }): { segments: boolean; hopS: number | undefined } {
  const flag = query.segments;
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag)) {
    throw new HttpError(400, 'EARG', `serve: segments must be 1 or 0 (${JSON.stringify(flag)} given)`);
  }
  const segments = flag === '1' || flag === 'true';
  if (query.hop === undefined) return { segments, hopS: undefined };
  if (!segments) throw new HttpError(400, 'EARG', 'serve: hop needs segments=1');
  const hopS = Number(query.hop);
  if (!(Number.isFinite(hopS) && hopS >= 0.01))
    throw new HttpError(400, 'EARG', `serve: hop must be a number of seconds >= 0.01 (${JSON.stringify(query.hop)} given)`);
  return { segments, hopS };
}
