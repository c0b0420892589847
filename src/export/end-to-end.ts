/**
 * The end-to-end model: a run's model.onnx (log-mel windows -> class probabilities) with the run's whole input
 * pipeline in front of it, so any ONNX runtime goes from the 16 kHz mono waveform to the emotion:
 *
 *   waveform [batch, samples] float32 (each row one recording of `samples` samples at the front end's rate)
 *     -> the first maxS seconds (recipe runs) or exactly durationS seconds, zero-padded (runs before recipes)
 *     -> reflect pad nFft / 2, STFT as a strided Conv with the windowed DFT kernel, |.|^2, mel MatMul, dB
 *        (src/features/graph.ts stftKernel / melBankTransposed: the CPU front end's own window and filter bank)
 *     -> speech span: frames whose energy (sum over mels of power) is within trimDb of the loudest frame's,
 *        first to last (ArgMax of the mask and of the reversed mask)
 *     -> `crops` windows of model.frames frames at evenly spaced offsets round(k last / (crops - 1)),
 *        filled by repeating the span or with silence, each clamped to its own max - topDb
 *     -> the run's CNN-TM (model.onnx, spliced in unchanged under the prefix 'cnn_tm/') on every window
 *     -> probabilities [batch, C]: the mean over each recording's distinct windows (repeated offsets count once,
 *        as cropOffsets drops them); logits [batch, C] = log(probabilities) (log-probabilities, so
 *        softmax(logits) = probabilities and the argmax is the label; with one window they are the model's
 *        logits up to a per-row constant)
 *
 * Every step is the one src/features/utterance.ts documents and RecordingInputs runs on the CPU; parity with
 * `ser predict` on real speech, and its tolerance, is in test/export/end-to-end.test.ts. The DFT runs as a dense
 * float32 convolution (see src/features/graph.ts), so dB values differ from the FFT path by ~1e-3 dB.
 */
import onnxProto from 'onnx-proto';
import { SerError } from '../errors.js';
import { samplesFor } from '../features/config.js';
import { AMIN } from '../features/db.js';
import { LogMelFrontEnd } from '../features/front-end.js';
import { melBankTransposed, stftKernel } from '../features/graph.js';
import { SILENCE_DB } from '../features/utterance.js';
import type { RunConfig } from '../train/run-config.js';
import { OnnxNodes } from './nodes.js';

const { onnx } = onnxProto;
const MODEL_PREFIX = 'cnn_tm/';
const INT64_MIN = -(2 ** 63);

/** Names of the end-to-end model's input and outputs. */
export const END_TO_END_IO = { input: 'waveform', probabilities: 'probabilities', logits: 'logits' } as const;

/**
 * The end-to-end ONNX model of a run: `modelBytes` (its model.onnx, symbolic batch axis) and its config.json.
 * @returns ONNX bytes: input 'waveform' [batch, samples] float32; outputs 'probabilities', 'logits' [batch, C].
 */
export function endToEndModel(
  modelBytes: Uint8Array,
  config: Pick<RunConfig, 'frontEnd' | 'durationS' | 'model' | 'recipe' | 'labels'>,
): Uint8Array {
  if (config.recipe?.speakerNorm) {
    throw new SerError(
      'EARG',
      'export',
      "this model was trained with speaker-level input normalisation: its windows need a speaker's band statistics, for " +
        'which a waveform-in model has no input. Export it without --end-to-end (log-mel windows in) and normalise each ' +
        "window with the speaker's statistics (src/features/speaker-norm.ts), or use ser predict --enrol",
    );
  }
  const inner = onnx.ModelProto.decode(modelBytes);
  const graph = inner.graph;
  const melInput = graph?.input?.find((i) => i.name === 'mel');
  const batchDim = melInput?.type?.tensorType?.shape?.dim?.[0];
  if (!graph || !melInput || !graph.output?.some((o) => o.name === 'probabilities')) {
    throw new SerError('EFORMAT', 'export', "model.onnx is not a run's model (expected input 'mel' and output 'probabilities')");
  }
  if (!batchDim?.dimParam) {
    throw new SerError(
      'EFORMAT',
      'export',
      `model.onnx has a fixed batch of ${batchDim?.dimValue}; the end-to-end model needs a symbolic batch axis (models exported since the symbolic batch; retrain or re-export the run)`,
    );
  }

  const nodes = new OnnxNodes('front_end/');
  const windows = frontEndNodes(nodes, config);
  const { probabilities: windowProbabilities } = spliceModel(nodes, graph, windows.mel);
  const probabilities = averageWindows(nodes, windowProbabilities, windows, config.labels.length);
  nodes.node('Identity', [probabilities]);
  const last = nodes.nodes[nodes.nodes.length - 1] as onnxProto.onnx.INodeProto;
  last.output = [END_TO_END_IO.probabilities];
  nodes.nodes.push({ name: 'front_end/logits', opType: 'Log', input: [END_TO_END_IO.probabilities], output: [END_TO_END_IO.logits] });

  const tensor = (name: string, dims: onnxProto.onnx.TensorShapeProto.IDimension[]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims } } },
  });
  const classes = { dimValue: config.labels.length };
  const model: onnxProto.onnx.IModelProto = {
    irVersion: inner.irVersion,
    producerName: 'speech-emotion (ser export --end-to-end)',
    opsetImport: inner.opsetImport,
    metadataProps: [
      { key: 'labels', value: JSON.stringify(config.labels) },
      { key: 'sample_rate_hz', value: String(config.frontEnd.sampleRateHz) },
      { key: 'input', value: 'waveform [batch, samples] float32, mono, one recording per row, at sample_rate_hz' },
    ],
    graph: {
      name: 'speech_emotion_end_to_end',
      node: nodes.nodes,
      initializer: nodes.initializers,
      input: [tensor(END_TO_END_IO.input, [{ dimParam: 'batch' }, { dimParam: 'samples' }])],
      output: [
        tensor(END_TO_END_IO.probabilities, [{ dimParam: 'batch' }, classes]),
        tensor(END_TO_END_IO.logits, [{ dimParam: 'batch' }, classes]),
      ],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** The window tensors the front end hands to the model and to the averaging. */
interface Windows {
  /** [batch * crops, 1, nMels, frames] */
  mel: string;
  crops: number;
  /** [batch or 1, crops] float 1/0: offset k differs from offset k - 1 (null with one crop). */
  weights: string | null;
}

function frontEndNodes(n: OnnxNodes, config: Pick<RunConfig, 'frontEnd' | 'durationS' | 'model' | 'recipe'>): Windows {
  const frontEnd = new LogMelFrontEnd(config.frontEnd);
  const { nFft, hopLength, nMels, topDb } = frontEnd.config;
  const nFreqs = frontEnd.nFreqs;
  const frames = config.model.frames;
  const recipe = config.recipe?.input;
  const scalar = (v: number) => n.int64([v], []);

  // 1. The samples analysed: the first maxS seconds; runs before recipes: exactly durationS seconds (zero-padded).
  const analysed = samplesFor(recipe ? recipe.maxS : config.durationS, frontEnd.config);
  let x = n.op('Slice', [END_TO_END_IO.input, n.int64([0]), n.int64([analysed]), n.int64([1])]);
  if (!recipe) {
    const short = n.op('Sub', [n.int64([analysed]), n.op('Gather', [n.op('Shape', [x]), n.int64([1])], { axis: 0 })]);
    x = n.op('Pad', [x, n.op('Concat', [n.int64([0, 0, 0]), short], { axis: 0 })]);
  }

  // 2. Reflect padding (features/stft-kernel.ts reflectIndex, for any length): j in [-pad, L + pad), period 2 (L - 1).
  const length = n.op('Gather', [n.op('Shape', [x]), scalar(1)], { axis: 0 });
  const pad = Math.floor(nFft / 2);
  const j = n.op('Range', [scalar(-pad), n.op('Add', [length, scalar(pad)]), scalar(1)]);
  const period = n.op('Max', [n.op('Mul', [n.op('Sub', [length, scalar(1)]), scalar(2)]), scalar(1)]);
  const folded = n.op('Mod', [j, period]);
  const reflected = n.op('Where', [n.op('Less', [folded, length]), folded, n.op('Sub', [period, folded])]);
  const padded = n.op('Gather', [x, reflected], { axis: 1 }); // [B, L + 2 pad]

  // 3. Power spectrum by the windowed-DFT convolution, mel filter bank, dB.
  const framesIn = n.op('Unsqueeze', [padded, n.int64([1, 2])]); // [B, 1, 1, Lp]
  const kernel = n.float(stftKernel(frontEnd), [2 * nFreqs, 1, 1, nFft]);
  const spectrum = n.op('Squeeze', [n.op('Conv', [framesIn, kernel], { strides: [1, hopLength] }), n.int64([2])]); // [B, 2F, T]
  const re = n.op('Slice', [spectrum, n.int64([0]), n.int64([nFreqs]), n.int64([1])]);
  const im = n.op('Slice', [spectrum, n.int64([nFreqs]), n.int64([2 * nFreqs]), n.int64([1])]);
  const power = n.op('Add', [n.op('Mul', [re, re]), n.op('Mul', [im, im])]); // [B, F, T]
  const mel = n.op('MatMul', [n.float(melBankTransposed(frontEnd), [nMels, nFreqs]), power]); // [B, M, T]
  const clamped = n.op('Max', [mel, n.float([AMIN], [])]);
  const db = n.op('Mul', [n.op('Log', [clamped]), n.float([10 / Math.LN10], [])]); // [B, M, T]

  if (!recipe) {
    // The whole fixed-length clip is the one window, clamped to its max - topDb.
    const window = n.op('Unsqueeze', [db, n.int64([1])]);
    return { mel: topDbClamp(n, window, topDb), crops: 1, weights: null };
  }

  // 4. Speech span [start, end) per recording (utterance.ts speechSpan), shapes [B, 1] (or [1, 1] untrimmed).
  const total = n.op('Gather', [n.op('Shape', [db]), n.int64([2])], { axis: 0 }); // [1]
  let start: string;
  let spanLength: string;
  if (recipe.trimDb === null) {
    start = n.int64([0], [1, 1]);
    spanLength = n.op('Unsqueeze', [total, n.int64([0])]);
  } else {
    const energy = n.op('ReduceSum', [clamped, n.int64([1])], { keepdims: 0 }); // [B, T]
    const threshold = n.op('Mul', [n.op('ReduceMax', [energy], { axes: [1], keepdims: 1 }), n.float([10 ** (-recipe.trimDb / 10)], [])]);
    const speech = n.op('Cast', [n.op('Not', [n.op('Less', [energy, threshold])])], { to: 1 });
    start = n.op('ArgMax', [speech], { axis: 1, keepdims: 1 });
    const reversed = n.op('Slice', [speech, n.int64([-1]), n.int64([INT64_MIN]), n.int64([1]), n.int64([-1])]);
    const end = n.op('Sub', [total, n.op('ArgMax', [reversed], { axis: 1, keepdims: 1 })]);
    spanLength = n.op('Sub', [end, start]);
  }

  // 5. Crop offsets round(k last / (crops - 1)) = floor((2 k last + crops - 1) / (2 (crops - 1))), last = max(L - frames, 0).
  const crops = recipe.crops;
  let offsets: string; // [B or 1, crops]
  let weights: string | null = null;
  if (crops === 1) offsets = n.int64([0], [1, 1]);
  else {
    const last = n.op('Max', [n.op('Sub', [spanLength, scalar(frames)]), scalar(0)]);
    const k2 = n.int64(
      Array.from({ length: crops }, (_, k) => 2 * k),
      [1, crops],
    );
    offsets = n.op('Div', [n.op('Add', [n.op('Mul', [k2, last]), scalar(crops - 1)]), scalar(2 * (crops - 1))]);
    const previous = n.op('Slice', [offsets, n.int64([0]), n.int64([crops - 1]), n.int64([1])]);
    const next = n.op('Slice', [offsets, n.int64([1]), n.int64([crops]), n.int64([1])]);
    const distinct = n.op('Cast', [n.op('Not', [n.op('Equal', [next, previous])])], { to: 1 });
    const first = n.op('Cast', [n.op('Equal', [n.op('Slice', [offsets, n.int64([0]), n.int64([1]), n.int64([1])]), scalar(0)])], { to: 1 });
    weights = n.op('Concat', [first, distinct], { axis: 1 });
  }

  // 6. Frame indices of every window: start + ((offset + j) mod L) ('repeat'), or start + offset + j inside the span.
  const position = n.op('Add', [
    n.op('Unsqueeze', [offsets, n.int64([2])]),
    n.int64(
      Array.from({ length: frames }, (_, i) => i),
      [1, 1, frames],
    ),
  ]);
  const start3 = n.op('Unsqueeze', [start, n.int64([2])]);
  const length3 = n.op('Unsqueeze', [spanLength, n.int64([2])]);
  const inSpan = recipe.fill === 'repeat' ? n.op('Mod', [position, length3]) : n.op('Min', [position, n.op('Sub', [length3, scalar(1)])]);
  const flat = n.op('Reshape', [n.op('Add', [start3, inSpan]), n.int64([0, 1, crops * frames])]); // [B or 1, 1, K]
  const dbShape = n.op('Shape', [db]);
  const gatherShape = n.op('Concat', [n.op('Slice', [dbShape, n.int64([0]), n.int64([2])]), n.int64([crops * frames])], { axis: 0 });
  let picked = n.op('GatherElements', [db, n.op('Expand', [flat, gatherShape])], { axis: 2 }); // [B, M, K]
  if (recipe.fill === 'silence') {
    const inside = n.op('Reshape', [n.op('Less', [position, length3]), n.int64([0, 1, crops * frames])]);
    picked = n.op('Where', [n.op('Expand', [inside, gatherShape]), picked, n.float([SILENCE_DB], [])]);
  }
  const perWindow = n.op('Transpose', [n.op('Reshape', [picked, n.int64([0, nMels, crops, frames])])], { perm: [0, 2, 1, 3] });
  const window = n.op('Reshape', [perWindow, n.int64([-1, 1, nMels, frames])]); // [B crops, 1, M, frames]
  return { mel: topDbClamp(n, window, topDb), crops, weights };
}

/** AmplitudeToDB's top_db over each window [N, 1, M, frames]: values below max - topDb raised to it. */
function topDbClamp(n: OnnxNodes, window: string, topDb: number | null): string {
  if (topDb === null) return window;
  const floor = n.op('Sub', [n.op('ReduceMax', [window], { axes: [2, 3], keepdims: 1 }), n.float([topDb], [])]);
  return n.op('Max', [window, floor]);
}

/** Appends the run's model graph with every name prefixed, reading `mel`; returns its probabilities' name. */
function spliceModel(n: OnnxNodes, graph: onnxProto.onnx.IGraphProto, mel: string): { probabilities: string } {
  const rename = (name: string) => (name === 'mel' ? mel : name === '' ? '' : MODEL_PREFIX + name);
  for (const node of graph.node ?? []) {
    n.nodes.push({
      ...node,
      name: MODEL_PREFIX + (node.name ?? ''),
      input: (node.input ?? []).map(rename),
      output: (node.output ?? []).map(rename),
    });
  }
  for (const init of graph.initializer ?? []) n.initializers.push({ ...init, name: rename(init.name ?? '') });
  return { probabilities: rename('probabilities') };
}

/** Mean over each recording's distinct windows: [B crops, C] -> [B, C]. */
function averageWindows(n: OnnxNodes, windowProbabilities: string, windows: Windows, classes: number): string {
  if (windows.crops === 1) return windowProbabilities;
  const rows = n.op('Reshape', [windowProbabilities, n.int64([-1, windows.crops, classes])]);
  const weights = n.op('Unsqueeze', [windows.weights as string, n.int64([2])]); // [B or 1, crops, 1]
  const sum = n.op('ReduceSum', [n.op('Mul', [rows, weights]), n.int64([1])], { keepdims: 0 });
  return n.op('Div', [sum, n.op('ReduceSum', [weights, n.int64([1])], { keepdims: 0 })]);
}
