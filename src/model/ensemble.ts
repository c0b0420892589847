/**
 * An ensemble of CNN-TM models of one architecture as ONE deployable graph: each member's eval graph
 * (buildCnnTm, mode 'eval', its own weights as initializers under the scope 'member<k>') on the same input 'mel';
 * output 'probabilities' = the mean over the members of their softmax probabilities, 'logits' = the log of that
 * mean (softmax(logits) = probabilities, so every path that reads either gets the ensemble's answer); with a
 * temperature in `config` (CnnTmConfig.temperature, fitted on the ensemble by `ser calibrate`), 'logits' = that log / T
 * and 'probabilities' their softmax. Averaging the
 * class probabilities of independently trained models: Lakshminarayanan, Pritzel and Blundell 2017, "Simple and
 * scalable predictive uncertainty estimation using deep ensembles". Inference costs the sum of the members'.
 */
import { Graph, add, div, log, softmax, toOnnx } from '../graph/index.js';
import { SerError } from '../errors.js';
import type { NamedTensor } from '../io/safetensors.js';
import { SYMBOLIC_BATCH, buildCnnTm, calibratedLogits, evalOnnx, evalOnnxState, stateConstants } from './cnn-tm.js';
import type { CnnTmConfig } from './config.js';

/** Added to the mean probability before its log: a class no member gives any probability gets a finite logit. */
const LOG_FLOOR = 1e-30;

/** The graph scope of member k's weights in the ensemble's model.onnx. */
function memberScope(k: number): string {
  return `member${k}`;
}

/** The ensemble's eval graph for `batch` windows (SYMBOLIC_BATCH for a symbolic batch axis). */
export function buildEnsembleEvalGraph(
  config: CnnTmConfig,
  members: ReadonlyArray<ReadonlyMap<string, NamedTensor>>,
  batch: number,
): Graph {
  if (members.length < 2) throw new SerError('EARG', 'ensemble', `an ensemble needs at least 2 members (${members.length} given)`);
  const g = new Graph('cnn_tm_ensemble');
  const mel = g.input('mel', [batch, 1, config.nMels, config.frames]);
  const perMember = members.map((state, k) =>
    g.scope(memberScope(k), () => softmax(buildCnnTm(mel, stateConstants(g, config, state), config, 'eval').logits, -1)),
  );
  const mean = div(
    perMember.reduce((sum, p) => add(sum, p)),
    members.length,
  );
  // Each member is untempered (its own run's temperature is not part of `config`; ser ensemble drops it).
  if (config.temperature === undefined) {
    g.output('logits', log(add(mean, LOG_FLOOR)));
    g.output('probabilities', mean);
    return g;
  }
  const logits = calibratedLogits(log(add(mean, LOG_FLOOR)), config);
  g.output('logits', logits);
  g.output('probabilities', softmax(logits, -1));
  return g;
}

/** The ensemble as ONNX bytes with a symbolic batch axis (what a run's model.onnx holds). */
export function ensembleOnnx(config: CnnTmConfig, members: ReadonlyArray<ReadonlyMap<string, NamedTensor>>): Uint8Array {
  return toOnnx(buildEnsembleEvalGraph(config, members, SYMBOLIC_BATCH), {
    producer: 'speech-emotion CNN-TM ensemble',
    dynamicBatch: SYMBOLIC_BATCH,
  });
}

/**
 * The members' weights an ensemble's model.onnx holds (evalOnnxState of each member's scope), for rebuilding it with
 * the current graph builder (scripts/rebuild-model-onnx.ts). Throws EFORMAT naming what a member lacks.
 */
export function ensembleOnnxStates(modelBytes: Uint8Array, config: CnnTmConfig, count: number): Array<Map<string, NamedTensor>> {
  return Array.from({ length: count }, (_, k) => evalOnnxState(modelBytes, config, memberScope(k)));
}

/**
 * A run's model.onnx rebuilt from the weights it holds with the current graph builders: a single model (evalOnnx) or,
 * given `ensembleSize` (config.json's ensemble.members.length), an ensemble (ensembleOnnx). What
 * scripts/rebuild-model-onnx.ts writes and test/model/shipped-model.test.ts compares with the shipped bytes.
 */
export function rebuildModelOnnx(modelBytes: Uint8Array, config: CnnTmConfig, ensembleSize?: number): Uint8Array {
  if (ensembleSize === undefined) return evalOnnx(config, evalOnnxState(modelBytes, config));
  return ensembleOnnx(config, ensembleOnnxStates(modelBytes, config, ensembleSize));
}
