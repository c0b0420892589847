/**
 * A WorkerPool worker for test/io/worker-pool.test.ts: squares the numbers it is sent, the smaller ones later (so
 * answers come back out of order), and throws a SerError for a negative one.
 */
import { SerError } from '../../src/errors.js';
import { serveTasks } from '../../src/io/worker-pool.js';

serveTasks<number, number>(async (n) => {
  if (n < 0) throw new SerError('EARG', 'square', `no negative numbers (${n} given)`);
  await new Promise((resolve) => setTimeout(resolve, 20 - (n % 20)));
  return { result: n * n };
});
