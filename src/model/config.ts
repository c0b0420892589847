/**
 * CNN-TM configuration and its PyTorch state_dict layout (names, shapes, dtypes), derived from
 * ../shared/reference/cnn_tm.py. One definition: weights.ts validates imports against it, the graph builder
 * (cnn-tm.ts) creates one graph input per entry, the trainer keeps state keyed by these names.
 */
import { SerError } from '../errors.js';
import { sizeOf } from '../shape.js';

export interface CnnTmConfig {
  /** Mel bands of the input (height of the [1, nMels, frames] image). */
  readonly nMels: number;
  readonly nClasses: number;
  /** Transformer width (d_model). */
  readonly dModel: number;
  /** Transformer encoder layers. */
  readonly layers: number;
  /** Attention heads; must divide dModel. */
  readonly heads: number;
  /** Feed-forward width of each encoder layer (dim_feedforward). */
  readonly ffDim: number;
  /** Dropout probability used in the CNN blocks and the encoder layers. */
  readonly dropout: number;
  /** Square conv kernel of branch `a` (odd; padding kernel // 2 keeps the size). */
  readonly kernelA: number;
  /** Square conv kernel of branch `b`. */
  readonly kernelB: number;
  /** Time frames of the input (3 s at 16 kHz, hop 256 -> 188). */
  readonly frames: number;
  /**
   * Normalisation of each input image inside the model, before the CNN blocks (so model.onnx carries it):
   * 'clip' subtracts the image's mean dB and divides by its standard deviation; 'band' does so per mel band over
   * time (cepstral mean and variance normalisation: removes a recording channel's fixed spectral colouring and
   * level); 'none' (or absent, as in cnn_tm.py and runs made before the option) feeds the dB values as they are.
   */
  readonly inputNorm?: InputNorm;
  /**
   * Temperature scaling of the deployable model's output (Guo et al. 2017, "On calibration of modern neural
   * networks"): its logits are divided by this before the softmax, which makes the probabilities more (T > 1) or
   * less (T < 1) cautious without changing which class is most probable. Fitted after training on held-out
   * recordings by `ser calibrate` (src/eval/calibration.ts); absent (training, runs never calibrated): 1.
   */
  readonly temperature?: number;
}

export type InputNorm = 'none' | 'clip' | 'band';
export const INPUT_NORMS: readonly InputNorm[] = ['none', 'clip', 'band'];

/** The paper-size model: cnn_tm.py defaults, 3 s clips (188 frames). */
export const PAPER_CNN_TM: CnnTmConfig = Object.freeze({
  nMels: 128,
  nClasses: 6,
  dModel: 128,
  layers: 6,
  heads: 4,
  ffDim: 512,
  dropout: 0.4,
  kernelA: 3,
  kernelB: 3,
  frames: 188,
});

/** Channels of the three convs of each CNN block, and the max-pool after conv 1 and conv 2. */
export const CNN_CHANNELS = [16, 32, 64] as const;
export const CNN_POOLS = [2, 4] as const;
/** nn.Sequential indices of the convs and batch norms inside a block (ReLU, MaxPool, Dropout in between). */
export const CONV_INDEX = [0, 5, 10] as const;
export const BN_INDEX = [1, 6, 11] as const;

export type StateRole = 'parameter' | 'running_mean' | 'running_var' | 'num_batches_tracked';

export interface StateEntry {
  /** PyTorch state_dict key, e.g. `a.0.weight`, `enc.layers.3.self_attn.in_proj_weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int64';
  readonly role: StateRole;
}

/** Feature-map size after the CNN blocks: [nMels / 8, frames / 8] with PyTorch's floor at each pool. */
export function cnnOutputSize(config: CnnTmConfig): { height: number; width: number } {
  let height = config.nMels;
  let width = config.frames;
  for (const pool of CNN_POOLS) {
    height = Math.floor(height / pool);
    width = Math.floor(width / pool);
  }
  return { height, width };
}

/** Throws EARG naming every invalid field. */
export function validateConfig(config: CnnTmConfig): void {
  const problems: string[] = [];
  const positive = ['nMels', 'nClasses', 'dModel', 'layers', 'heads', 'ffDim', 'kernelA', 'kernelB', 'frames'] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) problems.push(`${key} must be a positive integer (${value} given)`);
  }
  if (config.inputNorm !== undefined && !INPUT_NORMS.includes(config.inputNorm)) {
    problems.push(`inputNorm must be one of ${INPUT_NORMS.join(', ')} (${config.inputNorm} given)`);
  }
  if (config.temperature !== undefined && !(config.temperature > 0 && Number.isFinite(config.temperature))) {
    problems.push(`temperature must be a positive finite number (${config.temperature} given)`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) problems.push(`dropout must be in [0, 1) (${config.dropout} given)`);
  if (config.dModel % config.heads !== 0) problems.push(`heads (${config.heads}) must divide dModel (${config.dModel})`);
  for (const key of ['kernelA', 'kernelB'] as const) {
    if (config[key] % 2 !== 1) problems.push(`${key} must be odd so padding ${key} // 2 keeps the size (${config[key]} given)`);
  }
  const { height, width } = cnnOutputSize(config);
  if (height < 1 || width < 1) {
    problems.push(`input ${config.nMels} mels x ${config.frames} frames is too small: the CNN pools by 8 (needs at least 8 x 8)`);
  }
  if (problems.length > 0) throw new SerError('EARG', 'cnn-tm', `invalid config: ${problems.join('; ')}`);
}

/** Every state_dict entry of cnn_tm.py for `config`, in PyTorch's state_dict order. */
export function stateLayout(config: CnnTmConfig): StateEntry[] {
  validateConfig(config);
  const entries: StateEntry[] = [];
  const param = (name: string, shape: number[]) => entries.push({ name, shape, dtype: 'float32', role: 'parameter' });
  for (const [branch, kernel] of [
    ['a', config.kernelA],
    ['b', config.kernelB],
  ] as const) {
    let inChannels = 1;
    for (let i = 0; i < 3; i++) {
      const channels = CNN_CHANNELS[i] as number;
      const conv = `${branch}.${CONV_INDEX[i]}`;
      const bn = `${branch}.${BN_INDEX[i]}`;
      param(`${conv}.weight`, [channels, inChannels, kernel, kernel]);
      param(`${conv}.bias`, [channels]);
      param(`${bn}.weight`, [channels]);
      param(`${bn}.bias`, [channels]);
      entries.push({ name: `${bn}.running_mean`, shape: [channels], dtype: 'float32', role: 'running_mean' });
      entries.push({ name: `${bn}.running_var`, shape: [channels], dtype: 'float32', role: 'running_var' });
      entries.push({ name: `${bn}.num_batches_tracked`, shape: [], dtype: 'int64', role: 'num_batches_tracked' });
      inChannels = channels;
    }
  }
  const { height } = cnnOutputSize(config);
  const d = config.dModel;
  param('proj.weight', [d, 2 * (CNN_CHANNELS[2] as number) * height]);
  param('proj.bias', [d]);
  for (let layer = 0; layer < config.layers; layer++) {
    const p = `enc.layers.${layer}`;
    param(`${p}.self_attn.in_proj_weight`, [3 * d, d]);
    param(`${p}.self_attn.in_proj_bias`, [3 * d]);
    param(`${p}.self_attn.out_proj.weight`, [d, d]);
    param(`${p}.self_attn.out_proj.bias`, [d]);
    param(`${p}.linear1.weight`, [config.ffDim, d]);
    param(`${p}.linear1.bias`, [config.ffDim]);
    param(`${p}.linear2.weight`, [d, config.ffDim]);
    param(`${p}.linear2.bias`, [d]);
    param(`${p}.norm1.weight`, [d]);
    param(`${p}.norm1.bias`, [d]);
    param(`${p}.norm2.weight`, [d]);
    param(`${p}.norm2.bias`, [d]);
  }
  param('fc.weight', [config.nClasses, d]);
  param('fc.bias', [config.nClasses]);
  return entries;
}

/** Number of trainable values (the paper model: reported by the bench). */
export function parameterCount(config: CnnTmConfig): number {
  return stateLayout(config)
    .filter((entry) => entry.role === 'parameter')
    .reduce((sum, entry) => sum + sizeOf(entry.shape), 0);
}
