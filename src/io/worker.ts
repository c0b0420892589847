/**
 * Worker threads running a module of the package. The module is found beside the caller's own: `name.ts` when
 * the caller runs from source (tsx: benches, development), the compiled `name.js` otherwise (dist/ of the installed
 * package, build/ of the tests), so nothing depends on the working directory.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker running the module `name` (no extension) in the folder of `callerUrl` (the caller's import.meta.url).
 * From source the worker thread does not inherit tsx's module hooks, so a two-line entry registers them first;
 * compiled, the .js module is started directly.
 */
export function startModuleWorker(name: string, callerUrl: string, options: WorkerOptions = {}): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, options);
  const entry = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(entry, { ...options, eval: true });
}
