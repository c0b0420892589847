/**
 * A worker thread of RecordingWindowPool (window-pool.ts): makes the input windows of the files it is sent
 * (recording-windows.ts, the code predictFiles runs on the main thread without a pool) and sends them back, the
 * windows transferred, not copied. An exception is sent back with the task, message and code, for the pool to throw.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SerError } from '../errors.js';
import { RecordingInputs, type RunConfig } from './model-use.js';
import { recordingWindows } from './recording-windows.js';

/** What the pool sends: a task number and the file. */
export interface WindowTask {
  id: number;
  file: string;
}

/** What the worker sends back: the task's result, or the exception it threw. */
export type WindowReply =
  | { id: number; result: Awaited<ReturnType<typeof recordingWindows>> }
  | { id: number; thrown: { message: string; code?: string; module?: string; stack?: string } };

const inputs = new RecordingInputs((workerData as { config: RunConfig }).config);

parentPort?.on('message', async ({ id, file }: WindowTask) => {
  let reply: WindowReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = await recordingWindows(file, inputs);
    if ('windows' in result) {
      const { windows } = result;
      // Only a plain buffer the windows fill whole is handed over; any other is copied first.
      const own = windows.byteOffset === 0 && windows.buffer instanceof ArrayBuffer && windows.byteLength === windows.buffer.byteLength;
      result.windows = own ? windows : windows.slice();
      transfer.push(result.windows.buffer as ArrayBuffer);
    }
    reply = { id, result };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const serError = error instanceof SerError ? { code: error.code, module: error.module } : {};
    reply = { id, thrown: { message: e.message, stack: e.stack, ...serError } };
  }
  parentPort?.postMessage(reply, transfer);
});
