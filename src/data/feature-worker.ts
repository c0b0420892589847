/**
 * A worker thread of feature-cache.ts: makes the feature rows of the files it is sent (feature-rows.ts, the code
 * the calling thread runs without workers) and sends them back, the rows transferred, not copied.
 */
import { workerData } from 'node:worker_threads';
import { serveTasks, transferable } from '../io/worker-pool.js';
import { FeatureRowMaker, type RowOutcome, type RowRecipe } from './feature-rows.js';

const maker = new FeatureRowMaker((workerData as { recipe: RowRecipe }).recipe);

serveTasks<string, RowOutcome>(async (path: string) => {
  const result = await maker.rowOf(path);
  if (!('row' in result)) return { result };
  result.row = transferable(result.row);
  return { result, transfer: [result.row.buffer as ArrayBuffer] };
});
