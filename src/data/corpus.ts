/**
 * Corpus readers: a CREMA-D folder, a RAVDESS folder, or a CSV manifest -> a list of {@link Utterance}s.
 * Files are found recursively (any nesting); audio files whose names do not follow the corpus's scheme are
 * reported in `ignored` with the reason, never thrown on. Labels are the corpus's native names
 * (see labels.ts) unless a label spec selects/renames them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SerError } from '../errors.js';
import { parseCsvRecords } from './csv.js';
import { CREMA_D_LABELS, type LabelMapping, RAVDESS_LABELS, identityMapping, parseLabelSpec } from './labels.js';

export type CorpusName = 'crema-d' | 'ravdess' | 'csv';

/** One labelled recording. */
export interface Utterance {
  /** Absolute path of the audio file. */
  path: string;
  /** Path relative to the corpus root, '/'-separated: stable across machines; splits refer to utterances by it. */
  id: string;
  /** Class name after the label spec was applied. */
  label: string;
  /** Speaker id, unique within the corpus ('1001' CREMA-D actor, '12' RAVDESS actor); '' when a manifest has none. */
  speaker: string;
  corpus: CorpusName;
  /** The corpus's tag in a mixture of corpora (mixture.ts: 'ravdess', 'nemo', ...); absent for a single corpus. */
  source?: string;
  /** Sentence code: CREMA-D 'DFA', 'IEO', ...; RAVDESS '01' (Kids are talking by the door) or '02' (Dogs are sitting by the door). */
  sentence?: string;
  /** CREMA-D 'low' | 'medium' | 'high' | 'unspecified'; RAVDESS 'normal' | 'strong'. */
  intensity?: string;
  /** 'male' | 'female' when known. */
  sex?: string;
  /** Age in years when known (CREMA-D VideoDemographics.csv). */
  age?: number;
}

/** What a reader makes of one file name: the native label and metadata, or why the name was rejected. */
export type NameParse =
  | { ok: true; label: string; speaker: string; sentence?: string; intensity?: string; sex?: string }
  | { ok: false; reason: string };

/** Audio file extensions a corpus folder is searched for (others, e.g. CSV or PDF, are passed over silently). */
export const AUDIO_EXTENSIONS = ['.wav', '.flac', '.mp3', '.ogg', '.opus', '.aiff', '.aif', '.m4a'];

const CREMA_D_EMOTIONS: Record<string, string> = { ANG: 'angry', DIS: 'disgust', FEA: 'fear', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
const CREMA_D_LEVELS: Record<string, string> = { LO: 'low', MD: 'medium', HI: 'high', XX: 'unspecified', X: 'unspecified' };

/**
 * CREMA-D name `AAAA_SSS_EEE_LL.ext`: actor 1001-1091, sentence code (3 letters), emotion ANG/DIS/FEA/HAP/NEU/SAD,
 * level LO/MD/HI/XX (a few releases write X).
 */
export function parseCremaDName(fileName: string): NameParse {
  const stem = basename(fileName, extname(fileName));
  const match = /^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$/.exec(stem);
  if (!match) return { ok: false, reason: `name does not match CREMA-D's AAAA_SSS_EEE_LL (e.g. 1001_DFA_ANG_XX.wav)` };
  const [, actor, sentence, emotion, level] = match as unknown as [string, string, string, string, string];
  const label = CREMA_D_EMOTIONS[emotion];
  if (!label) return { ok: false, reason: `emotion code ${emotion} is not one of ${Object.keys(CREMA_D_EMOTIONS).join(' ')}` };
  const intensity = CREMA_D_LEVELS[level];
  if (!intensity) return { ok: false, reason: `level code ${level} is not one of ${Object.keys(CREMA_D_LEVELS).join(' ')}` };
  return { ok: true, label, speaker: actor, sentence, intensity };
}

/**
 * RAVDESS name `MM-CC-EE-II-SS-RR-AA.ext`: modality (01 AV, 02 video, 03 audio), channel (01 speech, 02 song),
 * emotion 01..08 (see RAVDESS_LABELS), intensity (01 normal, 02 strong), statement 01/02, repetition 01/02,
 * actor 01..24 (odd male, even female). Song (channel 02) is rejected: this toolkit models speech.
 */
export function parseRavdessName(fileName: string): NameParse {
  const stem = basename(fileName, extname(fileName));
  const match = /^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$/.exec(stem);
  if (!match) return { ok: false, reason: `name does not match RAVDESS's MM-CC-EE-II-SS-RR-AA (e.g. 03-01-05-01-02-01-12.wav)` };
  const [, modality, channel, emotion, intensity, statement, repetition, actor] = match.map(Number) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (modality < 1 || modality > 3) return { ok: false, reason: `modality ${modality} is not 01, 02 or 03` };
  if (channel === 2) return { ok: false, reason: 'song (vocal channel 02); only speech (01) is used' };
  if (channel !== 1) return { ok: false, reason: `vocal channel ${channel} is not 01 (speech) or 02 (song)` };
  const label = RAVDESS_LABELS[emotion - 1];
  if (!label) return { ok: false, reason: `emotion ${emotion} is not 01..08` };
  if (intensity !== 1 && intensity !== 2) return { ok: false, reason: `intensity ${intensity} is not 01 (normal) or 02 (strong)` };
  if (statement !== 1 && statement !== 2) return { ok: false, reason: `statement ${statement} is not 01 or 02` };
  if (repetition !== 1 && repetition !== 2) return { ok: false, reason: `repetition ${repetition} is not 01 or 02` };
  if (actor < 1 || actor > 24) return { ok: false, reason: `actor ${actor} is not 01..24` };
  return {
    ok: true,
    label,
    speaker: stem.slice(-2),
    sentence: stem.slice(12, 14),
    intensity: intensity === 1 ? 'normal' : 'strong',
    sex: actor % 2 === 1 ? 'male' : 'female',
  };
}

/** Options of {@link loadCorpus}. */
export interface LoadCorpusOptions {
  dataset: CorpusName;
  /** The corpus folder (CREMA-D, RAVDESS), or the manifest CSV (or a folder holding `manifest.csv`). */
  path: string;
  /** Label spec (see labels.ts), e.g. "angry,happy,sad", "calm=neutral,fearful=fear", "crema-d". Default: every native class. */
  labels?: string;
}

/** The result of {@link loadCorpus}. */
export interface Corpus {
  /** Utterances kept, sorted by id. */
  utterances: Utterance[];
  /** Class names; class i is `labels[i]`. */
  labels: string[];
  /** Audio files not used, each with the reason (name not in the corpus's scheme, class not selected, missing file). */
  ignored: Array<{ path: string; reason: string }>;
  /** The folder utterance ids are relative to. */
  root: string;
}

/**
 * Reads a corpus. Throws EDATA when nothing usable is found (saying what file names were expected and what was
 * seen) and EIO when the path does not exist; per-file problems go to `ignored`.
 */
export function loadCorpus(options: LoadCorpusOptions): Corpus {
  const path = resolve(options.path);
  if (!existsSync(path))
    throw new SerError('EIO', 'data', `${options.path}: no such file or folder (expected the ${options.dataset} corpus)`);
  const raw = options.dataset === 'csv' ? readManifest(path) : readFolder(path, options.dataset);
  const native = nativeLabels(options.dataset, raw.items);
  const mapping: LabelMapping = options.labels === undefined ? identityMapping(native) : parseLabelSpec(options.labels, native);
  const utterances: Utterance[] = [];
  const ignored = raw.ignored;
  for (const item of raw.items) {
    const label = mapping.map.get(item.label);
    if (label === undefined)
      ignored.push({ path: item.path, reason: `class '${item.label}' is not in the label set (${mapping.labels.join(', ')})` });
    else utterances.push({ ...item, label });
  }
  utterances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (utterances.length === 0) {
    const seen = ignored.slice(0, 3).map((entry) => basename(entry.path));
    throw new SerError(
      'EDATA',
      'data',
      `${options.path}: no usable ${options.dataset} utterances; expected ${EXPECTED[options.dataset]}` +
        (ignored[0]
          ? `; found ${ignored.length} unusable file(s), e.g. ${seen.join(', ')} (${ignored[0].reason})`
          : '; found no audio files at all'),
    );
  }
  return { utterances, labels: mapping.labels, ignored, root: raw.root };
}

const EXPECTED: Record<CorpusName, string> = {
  'crema-d': 'audio files named like 1001_DFA_ANG_XX.wav (any folder nesting)',
  ravdess: 'audio files named like 03-01-05-01-02-01-12.wav, e.g. in Actor_01 ... Actor_24 folders',
  csv: 'a CSV manifest with a header naming at least the columns path,label (optional speaker)',
};

function nativeLabels(dataset: CorpusName, items: readonly Utterance[]): string[] {
  if (dataset === 'crema-d') return [...CREMA_D_LABELS];
  if (dataset === 'ravdess') return [...RAVDESS_LABELS];
  return [...new Set(items.map((item) => item.label))].sort();
}

interface RawCorpus {
  items: Utterance[];
  ignored: Array<{ path: string; reason: string }>;
  root: string;
}

function toId(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** Every audio file below `dir`, sorted, following the nesting; unreadable folders are an EIO error. */
export function listAudioFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      throw new SerError('EIO', 'data', `${folder}: cannot list (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    for (const entry of entries) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (AUDIO_EXTENSIONS.includes(extname(entry.name).toLowerCase()) && !entry.name.startsWith('._')) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

function readFolder(dir: string, dataset: 'crema-d' | 'ravdess'): RawCorpus {
  if (!statSync(dir).isDirectory()) throw new SerError('EARG', 'data', `${dir}: the ${dataset} corpus is a folder, not a file`);
  const parse = dataset === 'crema-d' ? parseCremaDName : parseRavdessName;
  const demographics = dataset === 'crema-d' ? readCremaDDemographics(dir) : new Map<string, { sex?: string; age?: number }>();
  const items: Utterance[] = [];
  const ignored: Array<{ path: string; reason: string }> = [];
  for (const path of listAudioFiles(dir)) {
    const parsed = parse(basename(path));
    if (!parsed.ok) {
      ignored.push({ path, reason: parsed.reason });
      continue;
    }
    const { ok: _ok, ...fields } = parsed;
    const item: Utterance = { path, id: toId(dir, path), corpus: dataset, ...fields };
    const person = demographics.get(parsed.speaker);
    if (person?.sex !== undefined) item.sex = person.sex;
    if (person?.age !== undefined) item.age = person.age;
    items.push(item);
  }
  return { items, ignored, root: dir };
}

/**
 * CREMA-D's VideoDemographics.csv (ActorID, Age, Sex, ...) from `dir` or its parent, as actor -> {sex, age};
 * empty when absent.
 */
export function readCremaDDemographics(dir: string): Map<string, { sex?: string; age?: number }> {
  const out = new Map<string, { sex?: string; age?: number }>();
  const file = [join(dir, 'VideoDemographics.csv'), join(dirname(dir), 'VideoDemographics.csv')].find((candidate) => existsSync(candidate));
  if (!file) return out;
  const { header, records } = parseCsvRecords(readFileSync(file, 'utf8'), file);
  if (!header.includes('ActorID')) throw new SerError('EFORMAT', 'data', `${file}: expected an ActorID column, found ${header.join(', ')}`);
  for (const record of records) {
    const entry: { sex?: string; age?: number } = {};
    const sex = record['Sex']?.trim().toLowerCase();
    if (sex === 'male' || sex === 'female') entry.sex = sex;
    const age = Number(record['Age']);
    if (record['Age'] && Number.isFinite(age)) entry.age = age;
    out.set(String(record['ActorID']).trim(), entry);
  }
  return out;
}

/**
 * A CSV manifest: header with `path` and `label` columns, optional `speaker`, `sex`, `age`, `sentence`,
 * `intensity`; other columns are ignored. Relative paths are resolved against the manifest's folder.
 * Rows whose file does not exist are reported in `ignored`.
 */
function readManifest(path: string): RawCorpus {
  const file = statSync(path).isDirectory() ? join(path, 'manifest.csv') : path;
  if (!existsSync(file)) throw new SerError('EIO', 'data', `${path}: is a folder without manifest.csv (give the manifest CSV itself)`);
  const { header, records } = parseCsvRecords(readFileSync(file, 'utf8'), file);
  for (const column of ['path', 'label']) {
    if (!header.includes(column)) {
      throw new SerError(
        'EFORMAT',
        'data',
        `${file}: the header has no '${column}' column (found: ${header.join(', ')}; expected path,label[,speaker])`,
      );
    }
  }
  const root = dirname(file);
  const items: Utterance[] = [];
  const ignored: Array<{ path: string; reason: string }> = [];
  const seen = new Map<string, number>(); // file -> first row
  records.forEach((record, index) => {
    const given = (record['path'] ?? '').trim();
    const label = (record['label'] ?? '').trim();
    const audio = isAbsolute(given) ? given : resolve(root, given);
    if (!given || !label) {
      ignored.push({ path: audio, reason: `${basename(file)} row ${index + 1}: empty ${given ? 'label' : 'path'}` });
      return;
    }
    if (!existsSync(audio)) {
      ignored.push({ path: audio, reason: `${basename(file)} row ${index + 1}: file not found` });
      return;
    }
    const previous = seen.get(audio);
    if (previous !== undefined) {
      ignored.push({ path: audio, reason: `${basename(file)} row ${index + 1}: same file as row ${previous}` });
      return;
    }
    seen.set(audio, index + 1);
    const item: Utterance = { path: audio, id: toId(root, audio), label, speaker: (record['speaker'] ?? '').trim(), corpus: 'csv' };
    const sex = record['sex']?.trim().toLowerCase();
    if (sex) item.sex = sex;
    const age = Number(record['age']);
    if (record['age']?.trim() && Number.isFinite(age)) item.age = age;
    if (record['sentence']?.trim()) item.sentence = record['sentence'].trim();
    if (record['intensity']?.trim()) item.intensity = record['intensity'].trim();
    items.push(item);
  });
  return { items, ignored, root };
}

/**
 * Class index of each utterance (position of its label in `labels`), for the loss. A label outside `labels` is
 * an EDATA error naming it (e.g. evaluating a corpus whose classes do not map onto the model's).
 */
export function labelIndices(utterances: readonly Utterance[], labels: readonly string[]): Int32Array {
  const index = new Map(labels.map((label, i) => [label, i]));
  const out = new Int32Array(utterances.length);
  utterances.forEach((u, i) => {
    const k = index.get(u.label);
    if (k === undefined) {
      throw new SerError('EDATA', 'data', `${u.id}: label '${u.label}' is not one of the model's classes (${labels.join(', ')})`);
    }
    out[i] = k;
  });
  return out;
}
