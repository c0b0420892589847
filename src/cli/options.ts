/** Flag parsing shared by the `ser` commands: numbers with their bounds, corpora, recipes. */
import { existsSync, readFileSync } from 'node:fs';
import { Option } from 'commander';
import { CORPUS_NAMES, type CorpusName } from '../data/corpus.js';
import { type CorpusSource, readMixtureFile } from '../data/mixture.js';
import { SerError } from '../errors.js';
import { MAX_DEFAULT_JOBS, defaultJobs } from '../io/worker-pool.js';
import type { InputNorm } from '../model/config.js';
import { type Balance, PAPER_RECIPE, RECIPES, type Recipe, checkRecipe } from '../train/recipe.js';

/** Parses a numeric flag; EARG quoting the flag and the value when it is not a (bounded, integer) number. */
export function parseNumber(flag: string, text: string, options: { integer?: boolean; min?: number } = {}): number {
  const value = Number(text);
  const kind = options.integer ? 'an integer' : 'a number';
  const bound = options.min === undefined ? '' : options.min === Number.MIN_VALUE ? ' > 0' : ` >= ${options.min}`;
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (options.integer && !Number.isInteger(value)) ||
    (options.min !== undefined && value < options.min)
  ) {
    throw new SerError('EARG', 'cli', `${flag} must be ${kind}${bound} ('${text}' given)`);
  }
  return value;
}

/**
 * `--jobs <n>`, worker threads doing `work` (e.g. 'decoding files while the model runs'), the same flag in every
 * command that has it; read it with parseJobs.
 */
export function jobsOption(work: string): Option {
  return new Option('--jobs <n>', `threads ${work} (default ${defaultJobs()}: one per core, at most ${MAX_DEFAULT_JOBS}; 0: none)`);
}

/** The value of `--jobs` (an integer >= 0), or undefined when not given (the library's default). */
export function parseJobs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseNumber('--jobs', text, { integer: true, min: 0 });
}

/** Commander collector for a repeatable flag (undefined until first given, so help shows no empty default). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The corpora named by `--data` (one PATH with `--dataset`, or NAME=PATH repeated) or `--mixture FILE`; undefined
 * when none is given. A lone PATH ending in .csv is a manifest.
 */
export function corpusSources(
  data: readonly string[],
  dataset: CorpusName | undefined,
  mixture: string | undefined,
  command: string,
): { sources: CorpusSource[]; labels?: string } | undefined {
  if (mixture !== undefined) {
    if (data.length > 0) throw new SerError('EARG', command, '--mixture names the corpora itself; drop --data');
    return readMixtureFile(mixture);
  }
  if (data.length === 0) return undefined;
  const named = data.map((entry) => /^([a-z][a-z0-9-]*)=(.+)$/.exec(entry));
  if (data.length === 1 && !named[0]) {
    const path = data[0] as string;
    if (dataset === undefined) {
      if (!/\.csv$/i.test(path))
        throw new SerError('EARG', command, `--data ${path}: say which corpus it is with --dataset ${CORPUS_LIST}`);
      return { sources: [{ dataset: 'csv', path }] };
    }
    return { sources: [{ dataset, path }] };
  }
  if (dataset !== undefined)
    throw new SerError('EARG', command, '--dataset goes with a single --data PATH; several corpora are written --data NAME=PATH');
  const bad = data.filter((_, i) => !named[i] || !(CORPUS_NAMES as readonly string[]).includes(named[i]?.[1] ?? ''));
  if (bad.length > 0) {
    throw new SerError('EARG', command, `--data ${bad.join(', ')}: several corpora are written NAME=PATH with NAME one of ${CORPUS_LIST}`);
  }
  return { sources: named.map((match) => ({ dataset: match?.[1] as CorpusName, path: match?.[2] as string })) };
}

const CORPUS_LIST = CORPUS_NAMES.join('|');

/**
 * The recipe of `--recipe` (a name, or a JSON file of overrides whose optional "base" names the recipe they
 * change, default 'generalize'), with the single-field flags applied on top. Without --recipe: `base` (default the
 * paper's recipe; a fine-tuning run passes its initial model's).
 */
export function resolveRecipe(
  nameOrFile: string | undefined,
  overrides: { inputNorm?: InputNorm; crops?: number; balance?: Balance; balanceBy?: 'sampling' | 'loss' },
  base: Recipe = PAPER_RECIPE,
): Recipe {
  let recipe: Recipe = base;
  if (nameOrFile !== undefined) {
    const named = RECIPES[nameOrFile];
    if (named) recipe = named;
    else if (/\.json$/i.test(nameOrFile)) recipe = readRecipeFile(nameOrFile);
    else throw new SerError('EARG', 'cli', `--recipe ${nameOrFile}: not one of ${Object.keys(RECIPES).join(', ')} nor a .json file`);
  }
  const input = overrides.crops === undefined ? recipe.input : { ...recipe.input, crops: overrides.crops };
  return checkRecipe({
    ...recipe,
    input,
    ...(overrides.inputNorm ? { inputNorm: overrides.inputNorm } : {}),
    ...(overrides.balance ? { balance: overrides.balance } : {}),
    ...(overrides.balanceBy ? { balanceBy: overrides.balanceBy } : {}),
  });
}

/** A recipe JSON file: {"base": NAME, ...fields of Recipe}, `input` and `augment` merged field by field. */
function readRecipeFile(path: string): Recipe {
  if (!existsSync(path)) throw new SerError('EIO', 'cli', `${path}: no such recipe file`);
  let value: Partial<Recipe> & { base?: string };
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SerError('EFORMAT', 'cli', `${path}: not valid JSON (${(error as Error).message})`);
  }
  const base = RECIPES[value.base ?? 'generalize'];
  if (!base) throw new SerError('EFORMAT', 'cli', `${path}: base '${value.base}' is not one of ${Object.keys(RECIPES).join(', ')}`);
  const { base: _base, input, augment, ...rest } = value;
  return { ...base, ...rest, input: { ...base.input, ...input }, augment: { ...base.augment, ...augment } };
}
