/**
 * `ser predict --json` with a command line longer than ~29 KB (what a shell glob over ~600 files gives): ONNX
 * Runtime's telemetry client overflowed the stack on such a command line and the process died of SIGSEGV when the
 * model loaded (src/runtime/ort-node.ts). The paths here are the 12 shipped CREMA-D clips, each spelt with a long
 * run of `./` so that 12 files make 36 KB of arguments. Also: no /tmp/mat-debug-<pid>.log is left behind.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { assetPath } from '../../src/io/paths.js';
import { repoRoot } from '../helpers.js';
import { runCli } from './run-cli.js';

test('ser predict --json loads the model with 36 KB of arguments and leaves no telemetry log', async () => {
  const folder = assetPath('corpus', 'crema-d');
  const clips = readdirSync(folder).filter((f) => f.endsWith('.opus'));
  assert.equal(clips.length, 12);
  const longPaths = clips.map((clip) => `${'./'.repeat(1500)}${relative(repoRoot, join(folder, clip))}`);
  assert.ok(longPaths.join(' ').length > 36_000);
  let pid: number | undefined;
  const result = await runCli(['predict', '--json', '--threads', '1', ...longPaths], {
    cwd: repoRoot,
    onStdout: (_, child) => {
      pid = child.pid;
    },
  });
  assert.equal(result.signal, null, `ser predict died of ${result.signal}: ${result.stderr}`);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; label?: string });
  assert.deepEqual(
    lines.map((l) => l.file),
    longPaths,
  );
  for (const line of lines) assert.ok(typeof line.label === 'string', `no label for ${line.file.slice(-30)}`);
  assert.ok(pid !== undefined);
  assert.ok(!existsSync(join(tmpdir(), `mat-debug-${pid}.log`)), `ONNX Runtime wrote ${tmpdir()}/mat-debug-${pid}.log`);
});
