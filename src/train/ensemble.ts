/**
 * `ser ensemble`: trained runs of one architecture, input pipeline and class list combined into one run folder
 * whose model.onnx averages their class probabilities (model/ensemble.ts). Every inference path (`ser predict`,
 * `ser eval`, `ser export`, the web recognizer) reads it as any run. The folder holds:
 *   model.onnx   the ensemble graph (symbolic batch axis)
 *   config.json  the first member's, with `ensemble.members` (the member folders, absolute)
 *   split.json   the first member's; every member's test part must be the same recordings, so `ser eval --part
 *                test` scores only recordings no member trained or selected its epoch on
 *   LICENSE      the members' licence texts, when they have any
 * Members must not be ensembles themselves, and an ensemble cannot be fine-tuned (`--init` refuses it).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSplit } from '../data/splits.js';
import { SerError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { NamedTensor } from '../io/safetensors.js';
import { evalOnnxState } from '../model/cnn-tm.js';
import { ensembleOnnx } from '../model/ensemble.js';
import { LICENSE_FILE } from './fine-tune.js';
import { MODEL_FILE, type RunConfig, SPLIT_FILE } from './run-config.js';
import { readTrainedRun, writeRunConfig } from './run-dir.js';

/** What must be equal across members for their probabilities to mean the same thing on the same input. */
function inputsAndOutputs(config: RunConfig): Record<string, unknown> {
  // A member's temperature (ser calibrate) tempers its own outputs only: the ensemble averages untempered members.
  const { dropout: _dropout, temperature: _temperature, ...model } = config.model;
  return {
    model,
    frontEnd: config.frontEnd,
    durationS: config.durationS,
    labels: config.labels,
    'recipe input': config.recipe?.input ?? null,
    'recipe inputNorm': config.recipe?.inputNorm ?? null,
    'recipe speakerNorm': config.recipe?.speakerNorm ?? false,
  };
}

/** Writes the ensemble of `runDirs` into `out` (see the module comment); returns its config and model size. */
export function ensembleRuns(runDirs: readonly string[], out: string): { config: RunConfig; modelBytes: number } {
  if (runDirs.length < 2) throw new SerError('EARG', 'ensemble', `give at least 2 run folders (${runDirs.length} given)`);
  const outDir = resolve(out);
  if (existsSync(join(outDir, MODEL_FILE)))
    throw new SerError('EARG', 'ensemble', `${outDir} already holds a ${MODEL_FILE}; give another --out`);
  const twice = runDirs.map((dir) => resolve(dir)).filter((dir, i, all) => all.indexOf(dir) !== i);
  if (twice.length > 0)
    throw new SerError('EARG', 'ensemble', `${twice[0]} is given twice: each member counts once (give each run folder once)`);
  const members = runDirs.map((dir) => ({ dir: resolve(dir), ...readTrainedRun(resolve(dir)) }));
  const first = members[0] as (typeof members)[number];
  const reference = inputsAndOutputs(first.config);
  const testOf = (dir: string): string => [...loadSplit(join(dir, SPLIT_FILE)).parts.test].sort().join('\n');
  const firstTest = testOf(first.dir);
  const states: Array<Map<string, NamedTensor>> = [];
  for (const member of members) {
    if (member.config.ensemble)
      throw new SerError(
        'EARG',
        'ensemble',
        `${member.dir} is an ensemble itself; give its members (${member.config.ensemble.members.join(', ')})`,
      );
    const mine = inputsAndOutputs(member.config);
    const differing = Object.keys(reference).filter((key) => JSON.stringify(mine[key]) !== JSON.stringify(reference[key]));
    if (differing.length > 0) {
      throw new SerError(
        'EARG',
        'ensemble',
        `${member.dir} differs from ${first.dir} in ${differing.join(', ')}: members must share the model size, front end, ` +
          'input windows and classes',
      );
    }
    if (testOf(member.dir) !== firstTest) {
      throw new SerError(
        'EARG',
        'ensemble',
        `${member.dir} has another test part than ${first.dir}: members must be tested on the same recordings ` +
          '(train them with the same --split and --test-speakers or --test-corpus)',
      );
    }
    states.push(evalOnnxState(member.model, member.config.model));
  }
  const { temperature: _temperature, ...untempered } = first.config.model;
  const model = ensembleOnnx(untempered, states);
  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(join(outDir, SPLIT_FILE), readFileSync(join(first.dir, SPLIT_FILE)));
  const licences = [
    ...new Set(members.filter((m) => existsSync(join(m.dir, LICENSE_FILE))).map((m) => readFileSync(join(m.dir, LICENSE_FILE), 'utf8'))),
  ];
  if (licences.length > 0) {
    const header = `The weights of this ensemble are those of ${members.map((m) => m.dir).join(', ')} and carry their terms:\n\n`;
    writeFileAtomic(join(outDir, LICENSE_FILE), header + licences.join('\n\n'));
  }
  const config: RunConfig = { ...first.config, model: untempered, ensemble: { members: members.map((m) => m.dir) } };
  writeRunConfig(outDir, config);
  // Last: a folder with model.onnx is a finished ensemble (an interrupted one can be written again).
  writeFileAtomic(join(outDir, MODEL_FILE), model);
  return { config, modelBytes: model.length };
}
