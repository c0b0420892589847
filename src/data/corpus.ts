/**
 * Corpus readers: a folder of one of the corpora whose file names file-names.ts reads (CREMA-D, RAVDESS, nEMO,
 * EMOVO, URDU, Korean emotiontts), a folder of class folders (`folders`, for one's own recordings), or a CSV
 * manifest -> a list of {@link Utterance}s. Files are found recursively (any nesting); audio files whose names
 * do not follow the corpus's scheme are reported in `ignored` with the reason, never thrown on. Labels are the
 * corpus's native names (see labels.ts) unless a label spec selects/renames them. Sex and age come from the
 * name where it holds them (RAVDESS, EMOVO, URDU), else from the corpus's speaker table (CREMA-D
 * VideoDemographics.csv, nEMO data.tsv) found in the corpus folder or its parent.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SerError } from '../errors.js';
import { parseCsvRecords } from './csv.js';
import {
  type NameParse,
  parseCremaDName,
  parseEmovoName,
  parseKoreanEmotionTtsName,
  parseLabelFolder,
  parseNemoName,
  parseRavdessName,
  parseUrduName,
} from './file-names.js';
import {
  CREMA_D_LABELS,
  EMOVO_LABELS,
  KOREAN_EMOTIONTTS_LABELS,
  type LabelMapping,
  NEMO_LABELS,
  RAVDESS_LABELS,
  URDU_LABELS,
  identityMapping,
  parseLabelSpec,
} from './labels.js';

/** The corpus formats loadCorpus reads, in the order the CLI lists them. */
export const CORPUS_NAMES = ['crema-d', 'ravdess', 'nemo', 'emovo', 'urdu', 'korean-emotiontts', 'folders', 'csv'] as const;
export type CorpusName = (typeof CORPUS_NAMES)[number];

/** One labelled recording. */
export interface Utterance {
  /** Absolute path of the audio file. */
  path: string;
  /** Path relative to the corpus root, '/'-separated: stable across machines; splits refer to utterances by it. */
  id: string;
  /** Class name after the label spec was applied. */
  label: string;
  /**
   * Speaker id, unique within the corpus ('1001' CREMA-D, '12' RAVDESS, 'EB0' nEMO, 'f1' EMOVO, 'M1' URDU, 'ema' Korean
   * emotiontts); '' for `folders` and when a manifest has none (a manifest's speaker column is how to give them).
   */
  speaker: string;
  corpus: CorpusName;
  /** The corpus's tag in a mixture of corpora (mixture.ts: 'ravdess', 'nemo', ...); absent for a single corpus. */
  source?: string;
  /**
   * Sentence code where the name has one: CREMA-D 'DFA', 'IEO', ...; RAVDESS '01' (Kids are talking by the door) or '02'
   * (Dogs are sitting by the door); nEMO '1'..'90' (data.tsv has the text); EMOVO 'b1'..'n5'.
   */
  sentence?: string;
  /** CREMA-D 'low' | 'medium' | 'high' | 'unspecified'; RAVDESS 'normal' | 'strong'. */
  intensity?: string;
  /** 'male' | 'female' when known. */
  sex?: string;
  /** Age in years when known (CREMA-D VideoDemographics.csv, nEMO data.tsv). */
  age?: number;
}

/** Audio file extensions a corpus folder is searched for (others, e.g. CSV or PDF, are passed over silently). */
export const AUDIO_EXTENSIONS = [
  '.wav',
  '.flac',
  '.mp3',
  '.ogg',
  '.opus',
  '.aiff',
  '.aif',
  '.aifc',
  '.m4a',
  '.mp4',
  '.aac',
  '.webm',
  '.mka',
  '.caf',
];

/** Options of {@link loadCorpus}. */
export interface LoadCorpusOptions {
  dataset: CorpusName;
  /** The corpus folder, or for csv the manifest CSV (or a folder holding `manifest.csv`). */
  path: string;
  /** Label spec (see labels.ts), e.g. "angry,happy,sad", "calm=neutral,fearful=fear", "six". Default: every native class. */
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
  if (!(CORPUS_NAMES as readonly string[]).includes(options.dataset)) {
    throw new SerError('EARG', 'data', `unknown corpus kind '${options.dataset}' (expected one of ${CORPUS_NAMES.join(', ')})`);
  }
  const path = resolve(options.path);
  if (!existsSync(path))
    throw new SerError('EIO', 'data', `${options.path}: no such file or folder (expected the ${options.dataset} corpus)`);
  const format = FORMATS[options.dataset];
  const raw = format.read(path);
  const native = format.labels ? [...format.labels] : [...new Set(raw.items.map((item) => item.label))].sort();
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
      `${options.path}: no usable ${options.dataset} utterances; expected ${format.expected}` +
        (ignored[0]
          ? `; found ${ignored.length} unusable file(s), e.g. ${seen.join(', ')} (${ignored[0].reason})`
          : '; found no audio files at all'),
    );
  }
  return { utterances, labels: mapping.labels, ignored, root: raw.root };
}

/** How loadCorpus reads each corpus. */
interface CorpusFormat {
  /** What the corpus should look like, for the error when nothing usable is found. */
  expected: string;
  /** The native classes in the corpus's own order; absent: the labels found, sorted. */
  labels?: readonly string[];
  read: (path: string) => RawCorpus;
}

const FORMATS: Record<CorpusName, CorpusFormat> = {
  'crema-d': {
    expected: 'audio files named like 1001_DFA_ANG_XX.wav (any folder nesting)',
    labels: CREMA_D_LABELS,
    read: (dir) => readFolder(dir, { dataset: 'crema-d', parse: parseCremaDName, speakerTable: CREMA_D_DEMOGRAPHICS }),
  },
  ravdess: {
    expected: 'audio files named like 03-01-05-01-02-01-12.wav, e.g. in Actor_01 ... Actor_24 folders',
    labels: RAVDESS_LABELS,
    read: (dir) => readFolder(dir, { dataset: 'ravdess', parse: parseRavdessName }),
  },
  nemo: {
    expected: "audio files named like EB0_anger_1.wav (nEMO's samples folder; data.tsv beside it gives sex and age)",
    labels: NEMO_LABELS,
    read: (dir) => readFolder(dir, { dataset: 'nemo', parse: parseNemoName, speakerTable: NEMO_DATA }),
  },
  emovo: {
    expected: 'audio files named like rab-f1-b1.wav, e.g. in folders f1 ... m3',
    labels: EMOVO_LABELS,
    read: (dir) => readFolder(dir, { dataset: 'emovo', parse: parseEmovoName }),
  },
  urdu: {
    expected: 'audio files named like SM1_F1_A01.wav in folders Angry, Happy, Neutral, Sad',
    labels: URDU_LABELS,
    read: (dir) => readFolder(dir, { dataset: 'urdu', parse: parseUrduName }),
  },
  'korean-emotiontts': {
    expected: 'audio files named like ema00101.wav, e.g. in plain-to-emotional/ema/wav/',
    labels: KOREAN_EMOTIONTTS_LABELS,
    read: (dir) => readFolder(dir, { dataset: 'korean-emotiontts', parse: parseKoreanEmotionTtsName }),
  },
  folders: {
    expected: 'one folder per class holding its audio files at any depth (ROOT/angry/a.wav, ROOT/sad/day2/b.wav)',
    read: (dir) => readFolder(dir, { dataset: 'folders', parse: parseLabelFolder }),
  },
  csv: {
    expected: 'a CSV manifest with a header naming at least the columns path,label (optional speaker)',
    read: readManifest,
  },
};

interface RawCorpus {
  items: Utterance[];
  ignored: Array<{ path: string; reason: string }>;
  root: string;
}

function toId(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/**
 * Every audio file below `dir`, sorted, following the nesting and symbolic links (to folders and to files; paths
 * keep the link's name, so ids do not depend on where links point). A folder reached twice (a link loop, or two
 * links to one folder) is listed once; the second visit and broken links to audio names go to `onSkip` with the
 * reason. Unreadable folders are an EIO error.
 */
export function listAudioFiles(dir: string, onSkip?: (path: string, reason: string) => void): string[] {
  const out: string[] = [];
  const listed = new Map<string, string>();
  const isAudio = (name: string) => AUDIO_EXTENSIONS.includes(extname(name).toLowerCase()) && !name.startsWith('._');
  const walk = (folder: string): void => {
    const real = realpathSync(folder);
    const first = listed.get(real);
    if (first !== undefined) {
      onSkip?.(folder, `folder already listed as ${first} (a symbolic link loop or a second link to it); read once`);
      return;
    }
    listed.set(real, folder);
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      throw new SerError('EIO', 'data', `${folder}: cannot list (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    for (const entry of entries) {
      const full = join(folder, entry.name);
      let directory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          directory = statSync(full).isDirectory();
        } catch (error) {
          if (isAudio(entry.name)) onSkip?.(full, `broken symbolic link (${(error as NodeJS.ErrnoException).code ?? 'unreadable target'})`);
          continue;
        }
      }
      if (directory) walk(full);
      else if (isAudio(entry.name)) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

/** Sex and age of a speaker. */
type SpeakerDetails = { sex?: string; age?: number };

/** A corpus's table of speakers' sex and age, looked for in the corpus folder and its parent. */
interface SpeakerTable {
  fileName: string;
  delimiter: string;
  speakerColumn: string;
  sexColumn: string;
  ageColumn: string;
}

const CREMA_D_DEMOGRAPHICS: SpeakerTable = {
  fileName: 'VideoDemographics.csv',
  delimiter: ',',
  speakerColumn: 'ActorID',
  sexColumn: 'Sex',
  ageColumn: 'Age',
};
/** nEMO's data.tsv has one row per file; its speaker_id is padded with spaces. */
const NEMO_DATA: SpeakerTable = {
  fileName: 'data.tsv',
  delimiter: '\t',
  speakerColumn: 'speaker_id',
  sexColumn: 'gender',
  ageColumn: 'age',
};

/** Reads the audio files below `dir` whose names `parse` accepts; sex and age from `speakerTable` where it has them. */
function readFolder(
  dir: string,
  options: { dataset: CorpusName; parse: (path: string) => NameParse; speakerTable?: SpeakerTable },
): RawCorpus {
  if (!statSync(dir).isDirectory()) throw new SerError('EARG', 'data', `${dir}: the ${options.dataset} corpus is a folder, not a file`);
  const speakers = options.speakerTable ? readSpeakerTable(dir, options.speakerTable) : new Map<string, SpeakerDetails>();
  const items: Utterance[] = [];
  const ignored: Array<{ path: string; reason: string }> = [];
  for (const path of listAudioFiles(dir, (path, reason) => ignored.push({ path, reason }))) {
    const id = toId(dir, path);
    const parsed = options.parse(id);
    if (!parsed.ok) {
      ignored.push({ path, reason: parsed.reason });
      continue;
    }
    const { ok: _ok, ...fields } = parsed;
    const item: Utterance = { path, id, corpus: options.dataset, ...fields };
    const person = speakers.get(parsed.speaker);
    if (person?.sex !== undefined) item.sex = person.sex;
    if (person?.age !== undefined) item.age = person.age;
    items.push(item);
  }
  return { items, ignored, root: dir };
}

/** CREMA-D's VideoDemographics.csv (ActorID, Age, Sex, ...) from `dir` or its parent, as actor -> {sex, age}; empty when absent. */
export function readCremaDDemographics(dir: string): Map<string, SpeakerDetails> {
  return readSpeakerTable(dir, CREMA_D_DEMOGRAPHICS);
}

/** `table` from `dir` or its parent as speaker -> {sex, age} (sex 'male' | 'female', else left out); empty when absent. */
function readSpeakerTable(dir: string, table: SpeakerTable): Map<string, SpeakerDetails> {
  const out = new Map<string, SpeakerDetails>();
  const file = [join(dir, table.fileName), join(dirname(dir), table.fileName)].find((candidate) => existsSync(candidate));
  if (!file) return out;
  const { header, records } = parseCsvRecords(readFileSync(file, 'utf8'), file, table.delimiter);
  if (!header.includes(table.speakerColumn)) {
    throw new SerError('EFORMAT', 'data', `${file}: expected a ${table.speakerColumn} column, found ${header.join(', ')}`);
  }
  for (const record of records) {
    const details: SpeakerDetails = {};
    const sex = record[table.sexColumn]?.trim().toLowerCase();
    if (sex === 'male' || sex === 'female') details.sex = sex;
    const age = Number(record[table.ageColumn]);
    if (record[table.ageColumn]?.trim() && Number.isFinite(age)) details.age = age;
    out.set(String(record[table.speakerColumn]).trim(), details);
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
