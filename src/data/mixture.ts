/**
 * Several corpora read as one, for training on all of them and for protocols across them (leave one corpus out).
 *
 * - Each corpus gets a tag: its dataset name ('ravdess', 'nemo', ...; 'csv-2' for a second corpus of the same
 *   kind). Utterance ids become `tag/id` and speakers `tag/speaker`, so ids and speakers never collide across
 *   corpora; `source` holds the tag.
 * - One label space: the `labels` list (default: the paper's six classes, angry disgust fear happy neutral sad).
 *   Each corpus's native classes map onto it by name or alias (labels.ts mappingOnto: anger -> angry, fearful ->
 *   fear, joy -> happy, ...); classes with no counterpart (RAVDESS calm and surprised, nEMO surprised, EMOVO
 *   surprise) are left out and listed in `ignored`. A corpus may give its own label spec instead (`labels` of its
 *   source, the grammar of labels.ts), whose classes must then be in the label space.
 * - A single corpus is read exactly as loadCorpus reads it (ids and speakers unchanged, no tag), so runs made
 *   before mixtures keep their split files.
 *
 * A mixture file (JSON) names the same thing: {"labels": "angry,happy,neutral,sad", "corpora": [{"dataset":
 * "ravdess", "path": "../shared/data/ravdess"}, {"dataset": "nemo", "path": "...", "labels": "..."}]}; relative
 * paths are resolved against the file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SerError } from '../errors.js';
import { type Corpus, type CorpusName, type Utterance, loadCorpus } from './corpus.js';
import { CREMA_D_LABELS, mappingOnto } from './labels.js';

/** One corpus of a mixture. */
export interface CorpusSource {
  dataset: CorpusName;
  /** The corpus folder or manifest. */
  path: string;
  /** This corpus's own label spec (labels.ts grammar); default: its classes mapped onto the mixture's by name or alias. */
  labels?: string;
}

/** A mixture's corpora as one Corpus; `sources` are the tags, in the order given. */
export interface MixedCorpus extends Corpus {
  sources: string[];
}

/** Presets of the label space of a mixture. */
const LABEL_PRESETS: Readonly<Record<string, readonly string[]>> = { six: CREMA_D_LABELS, 'crema-d': CREMA_D_LABELS };

/** The tags of `sources` (see the module comment). */
export function sourceTags(sources: readonly Pick<CorpusSource, 'dataset'>[]): string[] {
  const seen = new Map<string, number>();
  return sources.map(({ dataset }) => {
    const k = (seen.get(dataset) ?? 0) + 1;
    seen.set(dataset, k);
    return k === 1 ? dataset : `${dataset}-${k}`;
  });
}

/**
 * Reads the corpora of a mixture (see the module comment). `labels`: the label space, a comma list of class
 * names or a preset ('six'); for a single corpus, its label spec as loadCorpus takes it.
 */
export function loadCorpora(sources: readonly CorpusSource[], options: { labels?: string } = {}): MixedCorpus {
  if (sources.length === 0) throw new SerError('EARG', 'data', 'no corpus given');
  if (sources.length === 1) {
    const [only] = sources as [CorpusSource];
    const corpus = loadCorpus({ dataset: only.dataset, path: only.path, labels: only.labels ?? options.labels });
    return { ...corpus, sources: [only.dataset] };
  }
  const space = labelSpace(options.labels);
  const tags = sourceTags(sources);
  const utterances: Utterance[] = [];
  const ignored: Corpus['ignored'] = [];
  sources.forEach((source, k) => {
    const tag = tags[k] as string;
    const corpus = loadCorpus({ dataset: source.dataset, path: source.path, labels: source.labels });
    ignored.push(...corpus.ignored);
    let map: ReadonlyMap<string, string>;
    if (source.labels !== undefined) {
      const foreign = corpus.labels.filter((label) => !space.includes(label));
      if (foreign.length > 0) {
        throw new SerError(
          'EDATA',
          'data',
          `${source.path}: its label spec gives ${foreign.join(', ')}, not in the mixture's classes (${space.join(', ')})`,
        );
      }
      map = new Map(corpus.labels.map((label) => [label, label]));
    } else {
      map = mappingOnto(corpus.labels, space).mapping.map;
    }
    for (const u of corpus.utterances) {
      const label = map.get(u.label);
      if (label === undefined) {
        ignored.push({ path: u.path, reason: `${tag} class '${u.label}' has no counterpart in the classes ${space.join(', ')}` });
        continue;
      }
      utterances.push({ ...u, label, id: `${tag}/${u.id}`, speaker: u.speaker === '' ? '' : `${tag}/${u.speaker}`, source: tag });
    }
  });
  const present = new Set(utterances.map((u) => u.label));
  const labels = space.filter((label) => present.has(label));
  if (labels.length < 2) {
    throw new SerError(
      'EDATA',
      'data',
      `the corpora share fewer than 2 of the classes ${space.join(', ')} (found: ${labels.join(', ') || 'none'})`,
    );
  }
  utterances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { utterances, labels, ignored, root: '', sources: tags };
}

/** The class list of a mixture's `labels` option: a preset or a comma list (default: the paper's six). */
function labelSpace(spec: string | undefined): string[] {
  if (spec === undefined) return [...CREMA_D_LABELS];
  const preset = LABEL_PRESETS[spec.trim()];
  if (preset) return [...preset];
  const names = spec.split(',').map((name) => name.trim());
  if (names.some((name) => name === '' || name.includes('='))) {
    throw new SerError(
      'EARG',
      'labels',
      `'${spec}': the classes of several corpora are a comma list of names (e.g. "angry,happy,neutral,sad") or 'six'; ` +
        'renames go in a mixture file, per corpus',
    );
  }
  if (new Set(names).size < 2) throw new SerError('EARG', 'labels', `'${spec}': a classifier needs at least 2 classes`);
  return [...new Set(names)];
}

/** A mixture file (see the module comment): its corpora, paths resolved, and its label space. */
export function readMixtureFile(path: string): { sources: CorpusSource[]; labels?: string } {
  if (!existsSync(path)) throw new SerError('EIO', 'data', `${path}: no such mixture file`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SerError('EFORMAT', 'data', `${path}: not valid JSON (${(error as Error).message})`);
  }
  const file = value as { labels?: unknown; corpora?: unknown };
  const problems: string[] = [];
  if (file === null || typeof file !== 'object' || !Array.isArray(file.corpora) || file.corpora.length === 0) {
    throw new SerError('EFORMAT', 'data', `${path}: expected {"corpora": [{"dataset": ..., "path": ...}, ...], "labels": ...}`);
  }
  if (file.labels !== undefined && typeof file.labels !== 'string')
    problems.push('"labels" must be a string such as "six" or "angry,happy,sad"');
  const sources: CorpusSource[] = [];
  (file.corpora as unknown[]).forEach((entry, i) => {
    const item = entry as Partial<CorpusSource> | null;
    if (item === null || typeof item !== 'object' || typeof item.dataset !== 'string' || typeof item.path !== 'string') {
      problems.push(`corpora[${i}] needs "dataset" and "path" strings`);
      return;
    }
    if (item.labels !== undefined && typeof item.labels !== 'string') problems.push(`corpora[${i}].labels must be a string`);
    const source: CorpusSource = { dataset: item.dataset, path: resolve(dirname(path), item.path) };
    if (typeof item.labels === 'string') source.labels = item.labels;
    sources.push(source);
  });
  if (problems.length > 0) throw new SerError('EFORMAT', 'data', `${path}: ${problems.join('; ')}`);
  return { sources, ...(typeof file.labels === 'string' ? { labels: file.labels } : {}) };
}
