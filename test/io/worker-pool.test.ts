/**
 * WorkerPool (the generic part; test/infer/window-pool.test.ts covers closing and a worker dying through
 * RecordingWindowPool): runInOrder gives the results in task order whatever order the workers finish in, takes no
 * more than `ahead` tasks beyond those the caller has taken, and throws a task's exception, rebuilt as it was
 * thrown, at that task; the pool is closed after.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool, checkJobs } from '../../src/io/worker-pool.js';

const squares = (size: number) =>
  new WorkerPool<number, number>({ module: 'square-worker', callerUrl: import.meta.url, size, errorModule: 'test', role: 'squaring' });

test('runInOrder: results in task order, at most `ahead` tasks taken before the caller takes their results', async () => {
  const pool = squares(3);
  try {
    let taken = 0;
    const tasks = function* () {
      for (let n = 0; n < 30; n++) {
        taken++;
        yield n;
      }
    };
    const results: number[] = [];
    const ahead: number[] = [];
    for await (const result of pool.runInOrder(tasks(), 4)) {
      results.push(result);
      ahead.push(taken - results.length);
    }
    assert.deepEqual(
      results,
      Array.from({ length: 30 }, (_, n) => n * n),
    );
    assert.ok(Math.max(...ahead) <= 4, `tasks taken ahead of the caller: ${ahead.join(' ')}`);
    assert.equal(ahead[0], 4, 'the pool fills up to `ahead`');
  } finally {
    await pool.close();
  }
});

test("a task's exception comes back as it was thrown, at its task; the pool is stopped after close", async () => {
  const pool = squares(2);
  try {
    await assert.rejects(pool.run(-3), {
      name: 'SerError',
      code: 'EARG',
      module: 'square',
      message: 'square: no negative numbers (-3 given)',
    });
    const results: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const result of pool.runInOrder([1, 2, -1, 4, 5])) results.push(result);
      })(),
      { code: 'EARG', message: /\(-1 given\)/ },
    );
    assert.deepEqual(results, [1, 4]);
    assert.equal(await pool.run(7), 49, 'a task that threw does not break the pool');
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run(2), { code: 'ERUNTIME', message: 'test: the squaring workers were stopped' });
});

test('checkJobs: a whole number >= 0, else EARG in the module named', () => {
  assert.equal(checkJobs(0, 'x'), 0);
  assert.throws(() => checkJobs(-1, 'features'), {
    code: 'EARG',
    message: /^features: jobs must be a whole number of worker threads >= 0 \(-1 given\)$/,
  });
  assert.throws(
    () => new WorkerPool({ module: 'square-worker', callerUrl: import.meta.url, size: 0, errorModule: 'test', role: 'squaring' }),
    {
      code: 'EARG',
      message: /squaring workers must be a whole number >= 1 \(0 given\)/,
    },
  );
});
