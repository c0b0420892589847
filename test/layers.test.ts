/**
 * The layer order written in the README's architecture section ("Layers, lowest first: ..."), enforced over the
 * imports of src/: a module imports its own folder and the layers below its own, never one above it or beside
 * it (folders joined by a comma share a layer and do not import each other). `import type` counts too: a type is a
 * dependency a reader must follow. Reads the TypeScript sources, so it also runs under tsx.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.js';

const src = join(repoRoot, 'src');

/** The README's order: "Layers, lowest first: `errors` < `io` < `audio`, `graph` < ..." as [['errors'], ['io'], ['audio', 'graph'], ...]. */
function readmeLayers(): string[][] {
  const line = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Layers, lowest first:'));
  assert.ok(line, 'README.md has no line starting "Layers, lowest first:"');
  return line
    .slice('Layers, lowest first:'.length)
    .replace(/\.$/, '')
    .split('<')
    .map((rank) => rank.split(',').map((name) => name.trim().replace(/`/g, '')));
}

/** src/ files (recursively) and the relative specifiers each imports or re-exports. */
function sourceImports(): Array<{ file: string; specifiers: string[] }> {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.map((file) => {
    const text = readFileSync(join(src, file), 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/gm)].map(
      (m) => (m[1] ?? m[2]) as string,
    );
    return { file, specifiers };
  });
}

/** The layer of a src/ path: its first folder, or the file name without .ts at the top (errors, index). */
function layerOf(path: string): string {
  const [first, ...rest] = path.split(sep);
  return rest.length === 0 ? (first as string).replace(/\.[jt]s$/, '') : (first as string);
}

test('every folder of src/ has a place in the README layer order', () => {
  const placed = new Set(readmeLayers().flat());
  const layers = new Set(sourceImports().map(({ file }) => layerOf(file)));
  assert.deepEqual([...layers].filter((l) => !placed.has(l)).sort(), []);
});

test('no module of src/ imports a layer above or beside its own', () => {
  const rank = new Map(readmeLayers().flatMap((names, i) => names.map((name) => [name, i] as const)));
  const violations: string[] = [];
  for (const { file, specifiers } of sourceImports()) {
    const from = layerOf(file);
    for (const specifier of specifiers) {
      const to = layerOf(relative(src, resolve(dirname(join(src, file)), specifier)));
      if (to === from) continue;
      if ((rank.get(to) ?? Number.POSITIVE_INFINITY) >= (rank.get(from) ?? Number.NEGATIVE_INFINITY)) {
        violations.push(`src/${file} (${from}) imports ${specifier} (${to})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
