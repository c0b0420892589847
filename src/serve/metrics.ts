/**
 * The service's Prometheus metrics (prom-client), in a registry of their own so that several servers can live
 * in one process (tests): requests by route and status, requests in flight, request latency, model inputs per ORT call and the
 * call's duration, errors by code, and prom-client's default process metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'ser_http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'ser_http_requests_in_flight',
    help: 'Requests received (headers read) and not answered yet, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'ser_http_request_duration_seconds',
    help: 'Time from request to response, by route',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'ser_inference_batch_size',
    help: 'Model inputs (windows) per ONNX Runtime call: how well concurrent requests were batched',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'ser_inference_batch_duration_seconds',
    help: 'Duration of one ONNX Runtime call',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'ser_errors_total',
    help: 'Requests answered with an error, by error code (EDECODE, EAUDIO, ELIMIT, EARG, ...)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ser_' });
  }
}
