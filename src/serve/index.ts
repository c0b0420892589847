/** The HTTP service: `startServer(options)` -> {url, app, close()} (server.ts), its metrics (metrics.ts). */
export { type ServeOptions, type ServiceHandle, startServer } from './server.js';
export { ServiceMetrics } from './metrics.js';
