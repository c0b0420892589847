/**
 * `npm run demo:web`: bundles the demo page (page.ts, worklet.ts: src/web + onnxruntime-web) with esbuild and
 * serves it on 127.0.0.1 with a run's model.onnx and config.json (default: the shipped model) and onnxruntime-web's
 * .wasm files, so the page works offline. Prints the URL.
 *
 *   npm run demo:web [-- --port 8080] [-- --run RUN_DIR]
 *
 * Repository only (it bundles the TypeScript sources with esbuild, a dev dependency). The page is served
 * cross-origin isolated (COOP/COEP), so onnxruntime-web may use WebAssembly threads. serveStatic and
 * bundleForBrowser are shared with the browser tests and benches (test/export/end-to-end-browser.test.ts,
 * bench/web-stream.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../io/paths.js';
import { defaultModelDir } from '../../infer/inference.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>speech-emotion: live demo</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }
  button { font-size: 1.1em; padding: 0.4em 1em; }
  #drop { border: 2px dashed #999; padding: 1.5em; margin: 1em 0; text-align: center; }
  .timeline { display: flex; flex-wrap: wrap; gap: 2px; margin: 0.5em 0; }
  .window { color: white; font-size: 0.8em; padding: 0.3em 0.5em; border-radius: 3px; }
  .window.silence { color: #555; }
  #overall { font-size: 1.3em; font-weight: bold; }
</style>
</head>
<body data-model="{{MODEL}}">
<h1>speech-emotion</h1>
<p id="status" data-status="loading">loading the model...</p>
<h2>Microphone</h2>
<button id="mic">Start microphone</button>
<canvas id="chart" width="800" height="240"></canvas>
<div id="live" class="timeline"></div>
<h2>File</h2>
<div id="drop">Drop an audio file here, or <input id="file" type="file" accept="audio/*"></div>
<p id="overall"></p>
<div id="file-timeline" class="timeline"></div>
<script type="module" src="page.js"></script>
</body>
</html>
`;

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

export interface DemoServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

/** Bundles the page and serves it with `runDir`'s model (default: the shipped model) on 127.0.0.1:`port` (0: any free port). */
export async function startDemoServer(options: { port?: number; runDir?: string } = {}): Promise<DemoServer> {
  const sources = join(packageRoot(), 'src', 'web', 'demo');
  const bundle = (entry: string) => bundleForBrowser(join(sources, entry));
  // With no run the page loads EmotionRecognizer's DEFAULT_MODEL_URL, which resolves to /assets/models/default/ from
  // the bundle at /page.js: served below, as a package's assets folder would be.
  const files = new Map<string, Uint8Array | string>([
    ['/', PAGE.replace('{{MODEL}}', options.runDir ? 'model/' : '')],
    ['/page.js', await bundle('page.ts')],
    ['/worklet.js', await bundle('worklet.ts')],
  ]);
  return serveStatic({
    files,
    folders: [
      ['/ort/', ortWasmDir()],
      ['/assets/models/default/', defaultModelDir()],
      ...(options.runDir ? ([['/model/', resolve(options.runDir)]] as Array<[string, string]>) : []),
    ],
    port: options.port,
  });
}

/** onnxruntime-web's dist folder (its .mjs and .wasm files) in the repository's node_modules. */
export function ortWasmDir(): string {
  return join(packageRoot(), 'node_modules', 'onnxruntime-web', 'dist');
}

/** Bundles a browser entry point (TypeScript; what it imports, src/web and onnxruntime-web included) into one ES module with esbuild. */
export async function bundleForBrowser(entry: string): Promise<Uint8Array> {
  const { build } = await import('esbuild');
  const result = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'error' });
  return result.outputFiles[0]?.contents as Uint8Array;
}

/** What serveStatic serves: exact paths to bodies, and URL prefixes to folders (no listing, nothing outside them). */
export interface StaticSite {
  /** URL path -> body; its Content-Type from the path's extension (text/html without one). */
  files?: ReadonlyMap<string, Uint8Array | string>;
  /** [URL prefix ending in '/', folder]: the prefix's files from the folder. */
  folders?: ReadonlyArray<readonly [string, string]>;
  /** Port on 127.0.0.1; 0 or absent: any free port. */
  port?: number;
}

/**
 * A loopback static server for the demo and the browser tests and benches: GET only, cross-origin isolated
 * (COOP/COEP, so onnxruntime-web may use WebAssembly threads), never cached. The URL ends in '/'.
 */
export async function serveStatic(site: StaticSite): Promise<DemoServer> {
  const files = site.files ?? new Map<string, Uint8Array | string>();
  const folders = (site.folders ?? []).map(([prefix, dir]) => [prefix, resolve(dir)] as const);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    const send = (body: Uint8Array | string, type: string) => {
      response.writeHead(200, { ...headers, 'Content-Type': type });
      response.end(body);
    };
    const file = files.get(path);
    if (file !== undefined) return send(file, TYPES[extname(path)] ?? 'text/html');
    for (const [prefix, dir] of folders) {
      if (!path.startsWith(prefix)) continue;
      const target = normalize(join(dir, path.slice(prefix.length)));
      if (target.startsWith(dir + sep) && existsSync(target))
        return send(readFileSync(target), TYPES[extname(target)] ?? 'application/octet-stream');
    }
    response.writeHead(404, headers);
    response.end(`not found: ${path}`);
  });
  await new Promise<void>((resolve_, reject) => {
    server.once('error', reject);
    server.listen(site.port ?? 0, '127.0.0.1', resolve_);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : site.port;
  return { url: `http://127.0.0.1:${port}/`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve_) => server.close(() => resolve_()));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, run: { type: 'string' } } });
  const demo = await startDemoServer({ port: Number(values.port), runDir: values.run });
  process.stdout.write(`speech-emotion demo: ${demo.url}  (model: ${values.run ?? 'the shipped default'}; Ctrl-C to stop)\n`);
}
