import type { Command } from 'commander';
import { register as registerBatch } from './batch.js';
import { register as registerCalibrate } from './calibrate.js';
import { register as registerCompare } from './compare.js';
import { register as registerEnsemble } from './ensemble.js';
import { register as registerEval } from './eval.js';
import { register as registerExport } from './export.js';
import { register as registerFeatures } from './features.js';
import { register as registerPredict } from './predict.js';
import { register as registerStream } from './stream.js';
import { register as registerServe } from './serve.js';
import { register as registerTrain } from './train.js';

/** Every `ser` sub-command; each file under src/cli/ exports `register(program)`. */
export function registerCommands(program: Command): void {
  registerFeatures(program);
  registerTrain(program);
  registerEval(program);
  registerCalibrate(program);
  registerCompare(program);
  registerPredict(program);
  registerExport(program);
  registerEnsemble(program);
  registerStream(program);
  registerServe(program);
  registerBatch(program);
}
