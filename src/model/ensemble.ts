/**
 * An ensemble of CNN-TM models of one architecture as ONE deployable graph: each member's eval graph
 * (buildCnnTm, mode 'eval', its own weights as initializers under the scope 'member<k>') on the same input 'mel';
 * output 'probabilities' = the mean over the members of their softmax probabilities, 'logits' = the log of that
 * mean (softmax(logits) = probabilities, so every path that reads either gets the ensemble's answer). Averaging the
 * class probabilities of independently trained models: Lakshminarayanan, Pritzel and Blundell 2017, "Simple and
 * scalable predictive uncertainty estimation using deep ensembles". Inference costs the sum of the members'.
 */
import { Graph, add, div, log, softmax, toOnnx } from '../graph/index.js';
import { SerError } from '../errors.js';
import type { NamedTensor } from '../io/safetensors.js';
import { SYMBOLIC_BATCH, buildCnnTm, stateConstants } from './cnn-tm.js';
import type { CnnTmConfig } from './config.js';

/** Added to the mean probability before its log: a class no member gives any probability gets a finite logit. */
const LOG_FLOOR = 1e-30;

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
    g.scope(`member${k}`, () => softmax(buildCnnTm(mel, stateConstants(g, config, state), config, 'eval').logits, -1)),
  );
  const mean = div(
    perMember.reduce((sum, p) => add(sum, p)),
    members.length,
  );
  g.output('logits', log(add(mean, LOG_FLOOR)));
  g.output('probabilities', mean);
  return g;
}

/** The ensemble as ONNX bytes with a symbolic batch axis (what a run's model.onnx holds). */
export function ensembleOnnx(config: CnnTmConfig, members: ReadonlyArray<ReadonlyMap<string, NamedTensor>>): Uint8Array {
  return toOnnx(buildEnsembleEvalGraph(config, members, SYMBOLIC_BATCH), {
    producer: 'speech-emotion CNN-TM ensemble',
    dynamicBatch: SYMBOLIC_BATCH,
  });
}
