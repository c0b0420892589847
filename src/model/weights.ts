/**
 * CNN-TM weights as a PyTorch state_dict in safetensors: `a.0.weight`, `a.1.running_mean`,
 * `enc.layers.3.self_attn.in_proj_weight`, `fc.bias` ... exactly the keys of ../shared/reference/cnn_tm.py,
 * so a model trained in PyTorch (saved with safetensors) runs here and ours loads in PyTorch.
 */
import { SerError } from '../errors.js';
import type { NamedTensor } from '../io/safetensors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { CnnTmConfig, StateEntry } from './config.js';
import { stateLayout } from './config.js';
import { Rng } from '../nn/random.js';
import { defaultLinearBound, uniformArray, xavierBound } from '../nn/init.js';
import { sizeOf } from '../shape.js';

export type StateDict = Map<string, NamedTensor>;

export interface ImportOptions {
  /** Key prefix to strip, e.g. 'param/' for the golden files or 'model.' for a wrapped module. Default ''. */
  readonly prefix?: string;
  /** Names the source in error messages. */
  readonly source?: string;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Checks `tensors` against the state layout of `config` and returns a state dict with exactly the layout's
 * keys, float32 data and the layout's shapes. Collects every problem (missing key, unexpected key, shape or
 * dtype mismatch) into one EFORMAT error. Like PyTorch's load_state_dict, a missing `num_batches_tracked`
 * is tolerated (set to 0); it may have shape [] or [1]. Float64 weights are converted to float32.
 */
export function importStateDict(tensors: ReadonlyMap<string, NamedTensor>, config: CnnTmConfig, options: ImportOptions = {}): StateDict {
  const prefix = options.prefix ?? '';
  const source = options.source ?? 'state dict';
  const layout = stateLayout(config);
  const wanted = new Set(layout.map((entry) => entry.name));
  const problems: string[] = [];
  const out: StateDict = new Map();
  for (const entry of layout) {
    const tensor = tensors.get(prefix + entry.name);
    if (!tensor) {
      if (entry.role === 'num_batches_tracked') out.set(entry.name, { data: new BigInt64Array(1), shape: [] });
      else problems.push(`missing '${prefix}${entry.name}' ${shapeText(entry.shape)}`);
      continue;
    }
    const converted = convert(entry, tensor, prefix, problems);
    if (converted) out.set(entry.name, converted);
  }
  const unexpected = [...tensors.keys()].filter((key) => key.startsWith(prefix) && !wanted.has(key.slice(prefix.length)));
  for (const key of unexpected) problems.push(`unexpected '${key}' ${shapeText(tensors.get(key)?.shape ?? [])}`);
  if (problems.length > 0) {
    throw new SerError(
      'EFORMAT',
      'weights',
      `${source} does not match CNN-TM (nMels ${config.nMels}, dModel ${config.dModel}, layers ${config.layers}, ffDim ${config.ffDim}, ` +
        `nClasses ${config.nClasses}, kernels ${config.kernelA}/${config.kernelB}): ${problems.length} problem(s): ${problems.join('; ')}`,
    );
  }
  return out;
}

function convert(entry: StateEntry, tensor: NamedTensor, prefix: string, problems: string[]): NamedTensor | undefined {
  const key = prefix + entry.name;
  if (entry.role === 'num_batches_tracked') {
    if (sizeOf(tensor.shape) !== 1 || !(tensor.data instanceof BigInt64Array || tensor.data instanceof Int32Array)) {
      problems.push(`'${key}' must be one int64 value (got ${tensor.data.constructor.name} ${shapeText(tensor.shape)})`);
      return undefined;
    }
    return { data: BigInt64Array.of(BigInt(tensor.data[0] as number | bigint)), shape: [] };
  }
  const sameShape = tensor.shape.length === entry.shape.length && tensor.shape.every((n, i) => n === entry.shape[i]);
  if (!sameShape) {
    problems.push(`'${key}' has shape ${shapeText(tensor.shape)}, expected ${shapeText(entry.shape)}`);
    return undefined;
  }
  if (tensor.data instanceof Float32Array) return { data: tensor.data, shape: entry.shape };
  if (tensor.data instanceof Float64Array) return { data: Float32Array.from(tensor.data), shape: entry.shape };
  problems.push(`'${key}' is ${tensor.data.constructor.name}, expected float32`);
  return undefined;
}

/** Reads a PyTorch state_dict saved as safetensors (`safetensors.torch.save_file(model.state_dict(), path)`). */
export function loadStateDict(path: string, config: CnnTmConfig, options: Omit<ImportOptions, 'source'> = {}): StateDict {
  const file = readSafetensors(path);
  return importStateDict(file.tensors, config, { ...options, source: path });
}

/**
 * Writes `state` as safetensors with PyTorch's keys, in state_dict order, the config in the metadata
 * (`cnn_tm_config`, JSON). Loads in PyTorch with `model.load_state_dict(safetensors.torch.load_file(path))`.
 */
export function saveStateDict(
  path: string,
  state: ReadonlyMap<string, NamedTensor>,
  config: CnnTmConfig,
  metadata: Record<string, string> = {},
): void {
  const checked = importStateDict(state, config, { source: 'state to save' });
  writeSafetensors(path, checked, { ...metadata, cnn_tm_config: JSON.stringify(config) });
}

/**
 * A fresh state dict with PyTorch's default initialisation (same distributions, our seeded generator):
 * conv and linear weights and biases U(+-1/sqrt(fan_in)); attention in_proj_weight xavier-uniform, in_proj_bias
 * and out_proj.bias 0; batch/layer norm weight 1, bias 0; running_mean 0, running_var 1. As in PyTorch,
 * nn.TransformerEncoder deep-copies one initialised layer, so all encoder layers start identical.
 */
export function initialState(config: CnnTmConfig, seed: number): StateDict {
  const rng = new Rng(seed);
  const state: StateDict = new Map();
  const layerZero = new Map<string, Float32Array>();
  for (const entry of stateLayout(config)) {
    const n = sizeOf(entry.shape);
    if (entry.role === 'num_batches_tracked') {
      state.set(entry.name, { data: new BigInt64Array(1), shape: entry.shape });
      continue;
    }
    const layerMatch = /^enc\.layers\.(\d+)\.(.*)$/.exec(entry.name);
    if (layerMatch && layerMatch[1] !== '0') {
      state.set(entry.name, { data: Float32Array.from(layerZero.get(layerMatch[2] as string) as Float32Array), shape: entry.shape });
      continue;
    }
    const data = initialValues(entry, n, state, rng);
    if (layerMatch) layerZero.set(layerMatch[2] as string, data);
    state.set(entry.name, { data, shape: entry.shape });
  }
  return state;
}

function initialValues(entry: StateEntry, n: number, state: StateDict, rng: Rng): Float32Array {
  const name = entry.name;
  if (entry.role === 'running_mean') return new Float32Array(n);
  if (entry.role === 'running_var') return new Float32Array(n).fill(1);
  if (/norm\d\.weight$/.test(name) || isBatchNorm(name, entry, 'weight')) return new Float32Array(n).fill(1);
  if (/norm\d\.bias$/.test(name) || isBatchNorm(name, entry, 'bias')) return new Float32Array(n);
  if (name.endsWith('in_proj_weight')) return uniformArray(n, xavierBound(entry.shape), rng);
  if (name.endsWith('in_proj_bias') || name.endsWith('out_proj.bias')) return new Float32Array(n);
  if (name.endsWith('.weight')) return uniformArray(n, defaultLinearBound(entry.shape), rng);
  // A conv/linear bias: the bound comes from its weight's fan_in (initialised just before it).
  const weight = state.get(name.replace(/bias$/, 'weight'));
  if (!weight) throw new Error(`initialState: no weight before '${name}'`);
  return uniformArray(n, defaultLinearBound(weight.shape), rng);
}

/** Batch-norm affine parameters are the 1-D `weight`/`bias` of the Sequential entries 1, 6, 11. */
function isBatchNorm(name: string, entry: StateEntry, which: 'weight' | 'bias'): boolean {
  return /^[ab]\.(1|6|11)\./.test(name) && name.endsWith(which) && entry.shape.length === 1;
}
