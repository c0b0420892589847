/**
 * A reader that stops early (`ser predict --json *.wav | head -1`) closes the pipe under `ser`: the next write fails
 * with EPIPE, which crashed the process with an unhandled 'error' event and a stack trace. It stops quietly now.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { assetPath } from '../../src/io/paths.js';
import { repoRoot } from '../helpers.js';
import { runCli } from './run-cli.js';

test('ser predict --json into a pipe closed after the first line exits 0 without a stack trace', async () => {
  const folder = assetPath('corpus', 'crema-d');
  const clips = readdirSync(folder)
    .filter((f) => f.endsWith('.opus'))
    .map((clip) => relative(repoRoot, join(folder, clip)));
  // 384 files, ~90 KB of JSON lines: more than a pipe holds (64 KB), so lines are still coming when the reader goes.
  const files = Array.from({ length: 32 }, () => clips).flat();
  let closedAfter = 0;
  const result = await runCli(['predict', '--json', '--threads', '1', ...files], {
    cwd: repoRoot,
    onStdout: (text, child) => {
      if (closedAfter === 0 && text.includes('\n')) {
        closedAfter = text.split('\n').length - 1;
        child.stdout?.destroy();
      }
    },
  });
  assert.ok(closedAfter > 0 && closedAfter < files.length, `the pipe closed after ${closedAfter} of ${files.length} lines`);
  assert.equal(result.signal, null);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /EPIPE|Error/);
});
