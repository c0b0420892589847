/** Runs the `ser` CLI in a child process: the compiled build/src/cli/main.js (beside the compiled tests), or src/cli/main.ts through tsx when tests run from source. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fromSource = import.meta.url.endsWith('.ts');
const main = fileURLToPath(new URL(fromSource ? '../../src/cli/main.ts' : '../../src/cli/main.js', import.meta.url));
const nodeArgs = fromSource ? ['--import', 'tsx', main] : [main];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ser ...args` (with `stdin` piped in, when given); resolves when the process exits. `onStderr` (`onStdout`) sees stderr (stdout) as it arrives (with the child, e.g. to
 * send it SIGINT after some output).
 */
export function runCli(
  args: readonly string[],
  options: {
    onStderr?: (text: string, child: ChildProcess) => void;
    onStdout?: (text: string, child: ChildProcess) => void;
    cwd?: string;
    stdin?: Uint8Array;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: options.cwd,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(stdout, child);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (options.stdin && child.stdin) {
      // Written in pieces, as a pipe delivers a stream.
      for (let at = 0; at < options.stdin.length; at += 10000) child.stdin.write(options.stdin.subarray(at, at + 10000));
      child.stdin.end();
    }
  });
}

/** A run's history.jsonl records without their wall times (`seconds`), to compare two runs of the same settings. */
export function historyWithoutSeconds(runDir: string): Array<Record<string, unknown>> {
  return readFileSync(join(runDir, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds: _, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
}
