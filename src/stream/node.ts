/** The streaming recognizer over a run's model in Node (onnxruntime-node): `ser stream`, bench/stream.ts. */
import { RunModel } from '../infer/inference.js';
import { type StreamOptions, StreamingRecognizer, type WindowModel } from './recognizer.js';

/** A RunModel as the recognizer's WindowModel. */
export function windowModel(model: RunModel): WindowModel {
  return {
    inputs: model.inputs,
    labels: model.config.labels,
    durationS: model.config.durationS,
    probabilities: (x, count) => model.probabilities(x, count),
    batch: model.batch,
  };
}

/**
 * Loads a run (default: the shipped model) and starts a stream on it. `release()` frees the model when the stream
 * is over.
 */
export async function openStream(
  runDir: string | undefined,
  options: StreamOptions & { threads?: number },
): Promise<{ recognizer: StreamingRecognizer; labels: readonly string[]; release: () => Promise<void> }> {
  const model = await RunModel.load(runDir, { threads: options.threads });
  try {
    const recognizer = new StreamingRecognizer(windowModel(model), options);
    return { recognizer, labels: model.config.labels, release: () => model.release() };
  } catch (error) {
    await model.release();
    throw error;
  }
}
