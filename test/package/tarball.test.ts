/**
 * The npm package as a stranger gets it: `npm pack` (which builds through `prepack`) makes a tarball with dist/,
 * declarations, the licences and the shipped model, and nothing from src/, test/ or the non-commercial RAVDESS
 * clips; installed into an empty project (offline, from the npm cache that `npm ci` filled, with
 * ONNXRUNTIME_NODE_INSTALL=skip as the README says), its `ser predict` and its library API classify a shipped
 * clip exactly as this checkout does, its declarations type-check an application, and `speech-emotion/web`
 * resolves and loads its import graph under Node.
 *
 * The temporary project's package-lock.json is this repository's lock cut down to what the package and
 * onnxruntime-web (its optional peer) need, so `npm ci --offline` installs the versions this checkout was
 * tested with and needs nothing beyond the cache.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { allPredicted, predictFiles } from '../../src/infer/inference.js';
import { repoRoot } from '../helpers.js';

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface PackageJson {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

const scratch = mkdtempSync(join(tmpdir(), 'ser-pack-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const app = join(scratch, 'app');
const clip = 'assets/corpus/crema-d/1001_DFA_ANG_XX.opus';
const secondClip = 'assets/corpus/crema-d/1001_DFA_SAD_XX.opus';
let listing: string[] = [];

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} (in ${cwd}) failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

/** The lock entries (by install path) needed by `roots`, resolved as Node does: nearest node_modules upwards. */
function closure(packages: Record<string, LockEntry>, roots: string[]): Map<string, LockEntry> {
  const needed = new Map<string, LockEntry>();
  const visit = (from: string, name: string) => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const path = `${base ? `${base}/` : ''}node_modules/${name}`;
      const entry = packages[path];
      if (entry) {
        if (needed.has(path)) return;
        needed.set(path, entry);
        const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).flatMap(([n, m]) => (m.optional ? [n] : [])));
        const peers = Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n));
        for (const dep of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}), ...peers]) {
          visit(path, dep);
        }
        return;
      }
      if (!base) return; // an optional dependency for another platform: not in the lock
    }
  };
  for (const name of roots) visit('', name);
  return needed;
}

before(() => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts=false', '--json', '--pack-destination', scratch], repoRoot)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const tarball = `file:../${packed[0]!.filename}`;
  listing = packed[0]!.files.map((f) => f.path);

  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const webRange = pkg.peerDependencies['onnxruntime-web'] as string;
  const packages: Record<string, LockEntry & { resolved?: string; name?: string }> = {
    '': { name: 'app', version: '1.0.0', dependencies: { [pkg.name]: tarball, 'onnxruntime-web': webRange } },
    [`node_modules/${pkg.name}`]: { ...lock.packages[''], version: pkg.version, resolved: tarball, dependencies: pkg.dependencies },
  };
  for (const [path, entry] of closure(lock.packages, [...Object.keys(pkg.dependencies), 'onnxruntime-web'])) {
    const { dev, devOptional, peer, ...rest } = entry;
    packages[path] = rest;
  }
  delete (packages[`node_modules/${pkg.name}`] as { devDependencies?: unknown }).devDependencies;
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module', dependencies: packages['']!.dependencies }),
  );
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }),
  );
  // As a user installs it: install scripts on (onnxruntime-node's would fetch CUDA binaries without the variable).
  run('npm', ['ci', '--offline', '--ignore-scripts=false', '--no-audit', '--no-fund'], app, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
});

test('the tarball holds dist (no src/ level, no source maps), declarations, the licences and the model, and no RAVDESS clip', () => {
  for (const file of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
    'dist/web/index.js',
  ]) {
    assert.ok(listing.includes(file), `${file} is missing from the tarball`);
  }
  for (const file of ['LICENSE', 'MODEL_CARD.md', 'model.onnx', 'config.json'])
    assert.ok(listing.includes(`assets/models/default/${file}`), file);
  const unwanted = listing.filter((f) =>
    /^(src|test|bench|build|results|runs)\/|^dist\/src\/|\.map$|^assets\/corpus\/(ravdess|manifest)|^tsconfig/.test(f),
  );
  assert.deepEqual(unwanted, []);
});

test('ser predict from the installed package classifies shipped clips as this checkout does (decoding workers from dist/)', async () => {
  const clips = [clip, secondClip];
  const expected = allPredicted(
    await predictFiles(
      undefined,
      clips.map((c) => join(repoRoot, c)),
    ),
  );
  // Two files and --jobs 2: the decoding workers start from the installed dist/infer/window-worker.js.
  const args = ['predict', '--jobs', '2', ...clips.map((c) => join('node_modules', 'speech-emotion', c))];
  const out = run(join(app, 'node_modules', '.bin', 'ser'), args, app);
  for (const [i, p] of expected.entries()) {
    const name = basename(clips[i] as string).replace('.', '\\.');
    assert.match(out, new RegExp(`${name}: ${p.label} `));
    const percent = `${p.label} ${((p.probabilities[p.label] as number) * 100).toFixed(1)}%`;
    assert.ok(out.includes(percent), `${out} should include ${percent}`);
  }
});

test('the library API and speech-emotion/web load from the installed package; its types check an application', async () => {
  const [expected] = allPredicted(await predictFiles(undefined, [join(repoRoot, clip)]));
  writeFileSync(
    join(app, 'main.ts'),
    [
      "import { LogMelFrontEnd, loadAudio, predictFiles } from 'speech-emotion';",
      "import { EmotionRecognizer } from 'speech-emotion/web';",
      `const file: string = 'node_modules/speech-emotion/${clip}';`,
      'const [prediction] = await predictFiles(undefined, [file]);',
      'const audio = await loadAudio(file);',
      'const mel = new LogMelFrontEnd().logMel(audio.samples);',
      'console.log(JSON.stringify({ prediction, nMels: mel.nMels, frames: mel.frames, web: typeof EmotionRecognizer.create }));',
    ].join('\n'),
  );
  const tsconfig = {
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      skipLibCheck: true,
      types: [],
      outDir: '.',
    },
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['main.ts'] }));
  run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
  const result = JSON.parse(run(process.execPath, ['main.js'], app)) as {
    prediction: { label: string; probabilities: Record<string, number> };
    nMels: number;
    frames: number;
    web: string;
  };
  assert.equal(result.prediction.label, expected!.label);
  for (const [label, p] of Object.entries(expected!.probabilities))
    assert.ok(Math.abs((result.prediction.probabilities[label] as number) - p) < 1e-6, label);
  assert.equal(result.nMels, 128);
  assert.ok(result.frames > 0);
  assert.equal(result.web, 'function');
});

test('ser train without --data in the installed package says the demo corpus comes with a clone', () => {
  const result = spawnSync(join(app, 'node_modules', '.bin', 'ser'), ['train', '--out', join(scratch, 'run')], {
    cwd: app,
    encoding: 'utf8',
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /embedded demo corpus .* comes with a clone of the repository, not with the npm package/);
});
