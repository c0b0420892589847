/**
 * Fine-tuning: a new run that starts from a trained model's weights instead of random ones (`ser train --init`),
 * e.g. the shipped default model adapted to a user's own labelled recordings.
 *
 * - The architecture, front end, clip length and input normalisation are the initial model's (its config.json);
 *   only dropout (not a weight) may differ. A run that asks for another one is refused before any data is read.
 * - Every weight and BatchNorm running statistic is the initial model's (read from its model.onnx), except the
 *   output layer `fc`, whose rows follow the new run's classes: a class the initial model knows keeps its row
 *   (matched by name, in any order, or by emotion synonym as src/data/labels.ts mappingOnto matches them: fearful
 *   takes fear's row), a class it does not know starts from the run's seeded initialisation (initialState:
 *   PyTorch's nn.Linear default).
 * - AdamW's moments and step start at zero, as for a new model; the learning-rate schedule is the run's own.
 * A resumed fine-tuning run takes everything from its checkpoint; config.json's `init` records where it started.
 * Weights derived from a model carry its terms: the initial model's LICENSE is written into the new run (the shipped
 * model's corpora allow non-commercial research use only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { join, resolve } from 'node:path';
import { mappingOnto } from '../data/labels.js';
import { SerError } from '../errors.js';
import type { FrontEndConfig } from '../features/config.js';
import type { NamedTensor } from '../io/safetensors.js';
import { evalOnnxState } from '../model/cnn-tm.js';
import type { CnnTmConfig } from '../model/config.js';
import { initialState } from '../model/weights.js';
import type { Recipe } from './recipe.js';
import type { RunConfig } from './run-config.js';
import { readTrainedRun } from './run-dir.js';

/** A trained model to start from: its run directory, config.json and weights by state_dict name. */
export interface InitialModel {
  dir: string;
  config: RunConfig;
  weights: Map<string, NamedTensor>;
}

/** Reads a run directory's config.json and the weights of its model.onnx (EIO / EFORMAT naming the directory). */
export function readInitialModel(dir: string): InitialModel {
  const runDir = resolve(dir);
  const { config, model } = readTrainedRun(runDir);
  if (config.ensemble) {
    throw new SerError(
      'EARG',
      'train',
      `--init ${runDir}: an ensemble of ${config.ensemble.members.length} models cannot be fine-tuned; give one of its members (${config.ensemble.members.join(', ')})`,
    );
  }
  let weights: Map<string, NamedTensor>;
  try {
    weights = evalOnnxState(model, config.model);
  } catch (error) {
    throw new SerError('EFORMAT', 'train', `--init ${runDir}: ${(error as Error).message}`);
  }
  return { dir: runDir, config, weights };
}

/**
 * The model, front end and clip length of a run fine-tuned from `initial`: the initial model's, with the run's
 * number of classes and `dropout` (default: the initial model's). Refuses a recipe whose input normalisation differs
 * from the one the initial model was trained with.
 */
export function fineTuneSetup(
  initial: InitialModel,
  nClasses: number,
  recipe: Recipe,
  dropout?: number,
): { model: CnnTmConfig; frontEnd: FrontEndConfig; durationS: number } {
  const inputNorm = initial.config.model.inputNorm ?? 'none';
  if (recipe.inputNorm !== inputNorm) {
    throw new SerError(
      'EARG',
      'train',
      `--init ${initial.dir}: that model normalises its input per '${inputNorm}', the recipe asks for '${recipe.inputNorm}'; ` +
        `drop --input-norm or give --input-norm ${inputNorm}`,
    );
  }
  const speakerNorm = initial.config.recipe?.speakerNorm === true;
  if ((recipe.speakerNorm === true) !== speakerNorm) {
    throw new SerError(
      'EARG',
      'train',
      `--init ${initial.dir}: that model was trained ${speakerNorm ? 'with' : 'without'} speaker-level input normalisation, ` +
        `the recipe asks for it ${recipe.speakerNorm ? 'on' : 'off'}; give a recipe with "speakerNorm": ${speakerNorm}`,
    );
  }
  // The initial model's temperature (ser calibrate) was fitted to its outputs, not to the fine-tuned model's.
  const { temperature: _temperature, ...architecture } = initial.config.model;
  return {
    model: { ...architecture, nClasses, dropout: dropout ?? initial.config.model.dropout, inputNorm },
    frontEnd: initial.config.frontEnd,
    durationS: initial.config.durationS,
  };
}

/** The starting weights of a fine-tuning run, and which of its classes kept the initial model's output row. */
export interface FineTuneStart {
  weights: Map<string, NamedTensor>;
  /** Classes whose output row comes from the initial model, e.g. 'sad', or 'fearful (fear)' for a synonym. */
  carried: string[];
  /** Classes the initial model does not know: their output row is freshly initialised. */
  fresh: string[];
}

/**
 * The weights a run with `model` and `labels` starts from (see the file comment); `seed` draws the rows of new
 * classes exactly as a run from scratch with that seed would draw the whole output layer.
 */
export function fineTuneWeights(initial: InitialModel, model: CnnTmConfig, labels: readonly string[], seed: number): FineTuneStart {
  if (labels.length !== model.nClasses) {
    throw new SerError('EARG', 'train', `${labels.length} class names for a model of ${model.nClasses} classes`);
  }
  const seeded = initialState(model, seed);
  const weights = new Map<string, NamedTensor>();
  for (const [name, tensor] of seeded) {
    if (name === 'fc.weight' || name === 'fc.bias') continue;
    weights.set(name, initial.weights.get(name) ?? tensor);
  }
  const known = initial.config.labels;
  const rowSize = model.dModel;
  const weight = Float32Array.from(seeded.get('fc.weight')?.data as Float32Array);
  const bias = Float32Array.from(seeded.get('fc.bias')?.data as Float32Array);
  const initialWeight = initial.weights.get('fc.weight')?.data as Float32Array;
  const initialBias = initial.weights.get('fc.bias')?.data as Float32Array;
  const counterpart = new Map(mappingOnto(labels, known).pairs);
  const carried: string[] = [];
  const fresh: string[] = [];
  labels.forEach((label, row) => {
    const name = counterpart.get(label);
    if (name === undefined) {
      fresh.push(label);
      return;
    }
    const from = known.indexOf(name);
    weight.set(initialWeight.subarray(from * rowSize, (from + 1) * rowSize), row * rowSize);
    bias[row] = initialBias[from] as number;
    carried.push(name === label ? label : `${label} (${name})`);
  });
  weights.set('fc.weight', { data: weight, shape: [model.nClasses, rowSize] });
  weights.set('fc.bias', { data: bias, shape: [model.nClasses] });
  return { weights, carried, fresh };
}

/** The licence file of a model folder (the shipped model's, and every run fine-tuned from it). */
export const LICENSE_FILE = 'LICENSE';

/**
 * Writes the initial model's LICENSE into `runDir`, headed by where the weights came from; returns whether there
 * was one (a run trained here from scratch has none: its terms are those of the data it was given).
 */
export function carryLicense(initial: InitialModel, runDir: string): boolean {
  const source = join(initial.dir, LICENSE_FILE);
  if (!existsSync(source)) return false;
  const header =
    `The weights of this run were fine-tuned from ${initial.dir} (ser train --init) and carry its terms, below, ` +
    'besides those of the data this run was trained on.\n\n';
  writeFileAtomic(join(runDir, LICENSE_FILE), header + readFileSync(source, 'utf8'));
  return true;
}
