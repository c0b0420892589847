/**
 * The run-folder lock with real processes: a child process holds the lock, the parent (and `ser train --resume`)
 * are refused with EBUSY naming the child's pid; after the child is SIGKILLed its lock file stays, and the next
 * taker finds it stale and takes it over. A lock from another host is never taken over.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SerError } from '../../src/errors.js';
import { LOCK_FILE, acquireRunLock } from '../../src/io/run-lock.js';
import { runCli } from '../cli/run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-lock-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const lockModule = fileURLToPath(new URL('../../src/io/run-lock.js', import.meta.url));

/** A child process that takes the lock of `dir` and waits; resolves once it holds it. */
function holder(dir: string): Promise<ChildProcess> {
  const code = `const { acquireRunLock } = await import(${JSON.stringify(lockModule)}); acquireRunLock(${JSON.stringify(dir)}, 'train'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (status) => reject(new Error(`the lock holder exited with ${status}`)));
  });
}

const killed = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));

test('a live holder refuses others with EBUSY naming its pid; after SIGKILL its stale lock is taken over', async () => {
  const dir = join(scratch, 'run');
  mkdirSync(dir);
  const child = await holder(dir);
  try {
    assert.throws(
      () => acquireRunLock(dir, 'train'),
      (e: unknown) =>
        e instanceof SerError &&
        e.code === 'EBUSY' &&
        e.message.includes(`${dir} is in use: process ${child.pid} has been training it since`),
    );
    // The CLI: resuming a folder that is being trained is refused before anything else is read.
    const resumed = await runCli(['train', '--out', dir, '--resume']);
    assert.equal(resumed.code, 1);
    assert.match(
      resumed.stderr,
      new RegExp(`^ser: train: .*run is in use: process ${child.pid} has been training it since .* \\[EBUSY\\]$`, 'm'),
    );
  } finally {
    child.kill('SIGKILL');
    await killed(child);
  }
  assert.ok(existsSync(join(dir, LOCK_FILE)), 'SIGKILL leaves the lock file');
  const lock = acquireRunLock(dir, 'train');
  assert.equal(lock.tookOver?.pid, child.pid);
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  lock.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
});

test('one process cannot take its own lock twice; a lock from another host is not taken over', () => {
  const dir = join(scratch, 'twice');
  mkdirSync(dir);
  const lock = acquireRunLock(dir, 'train');
  assert.throws(() => acquireRunLock(dir, 'train'), /is in use: process \d+ has been training it/);
  lock.release();
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: 1, host: 'elsewhere.example', startTicks: null, since: '2026-01-01T00:00:00Z' }),
  );
  assert.throws(() => acquireRunLock(dir, 'train'), /process 1 on host elsewhere\.example .* \(if it is gone, remove .*train\.lock\)/);
});
