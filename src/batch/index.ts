/** Batch jobs on BullMQ + Redis: submit (submit.ts), work (worker.ts), status and results (report.ts). */
export { type BatchStatus, type FailedFile, batchStatus, writeResults } from './report.js';
export { type FileJob, type FileResult, connect } from './queue.js';
export { type SubmitOptions, type SubmitSummary, listFiles, submitBatch } from './submit.js';
export { type BatchWorkers, type WorkOptions, startWorkers } from './worker.js';
