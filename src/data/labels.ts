/**
 * Emotion label sets, the synonyms that relate them, and the `--labels` spec that selects and renames classes.
 *
 * Native label names (what the corpus readers produce):
 * - CREMA-D, 6 classes: angry, disgust, fear, happy, neutral, sad (file codes ANG DIS FEA HAP NEU SAD).
 * - RAVDESS, 8 classes: neutral, calm, happy, sad, angry, fearful, disgust, surprised (file codes 01..08).
 * - nEMO, 6 classes: anger, fear, happiness, neutral, sadness, surprised (written out in the file names).
 * - EMOVO, 7 classes: disgust, joy, neutral, fear, anger, surprise, sadness (file codes dis gio neu pau rab sor tri).
 * - URDU, 4 classes: angry, happy, neutral, sad (file letters A H N S).
 * - Korean emotiontts, 4 classes: neutral, happy, angry, sad (file number ranges 1-100, 101-200, 201-300, 301-400).
 * - folders and CSV manifests: the names found, sorted.
 *
 * Corpora name the same emotion differently (anger, angry, ANG). {@link canonicalEmotion} sends each synonym
 * in {@link EMOTION_SYNONYMS} to one canonical name: the paper's six classes (CREMA-D's names) plus
 * `surprised` and `calm`, so that 8-class RAVDESS-style sets map too. Two labels mean the same class when their
 * canonical names agree or the labels are equal ignoring case. RAVDESS `calm` is NOT neutral: its actors were
 * asked for a distinct "calm" portrayal; map it yourself with `calm=neutral` if you want it.
 *
 * Spec grammar (comma-separated items, whitespace ignored):
 * - `name`         keep the class `name`;
 * - `from=to`      keep the class `from`, renamed `to` (several sources may map onto one target);
 * - a preset name: `all` (every native class), `six` or its older name `crema-d` (the paper's six classes
 *   angry, disgust, fear, happy, neutral, sad: each native label whose canonical name is one of them, renamed
 *   to it; classes the corpus lacks are simply absent, at least 2 must remain).
 * If the spec lists at least one plain `name` or a preset, ONLY the listed classes are kept (others are dropped);
 * if it holds only `from=to` items, every other class is kept under its own name. The class order (the
 * model's output index) is the order in which targets first appear; for "only renames" it is the native
 * order with renames applied.
 *   "angry,happy,sad"              -> [angry, happy, sad], the rest dropped
 *   "calm=neutral,fearful=fear"    -> RAVDESS: [neutral, happy, sad, angry, fear, disgust, surprised]
 *   "six" on RAVDESS               -> [angry, disgust, fear, happy, neutral, sad]; calm and surprised dropped
 *   "six" on nEMO                  -> [angry, fear, happy, neutral, sad] (anger -> angry, ...); surprised dropped
 */
import { SerError } from '../errors.js';

/** The paper's six classes, CREMA-D's names: the `six` (= `crema-d`) preset. */
export const CREMA_D_LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'] as const;
export const RAVDESS_LABELS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export const NEMO_LABELS = ['anger', 'fear', 'happiness', 'neutral', 'sadness', 'surprised'] as const;
export const EMOVO_LABELS = ['disgust', 'joy', 'neutral', 'fear', 'anger', 'surprise', 'sadness'] as const;
export const URDU_LABELS = ['angry', 'happy', 'neutral', 'sad'] as const;
export const KOREAN_EMOTIONTTS_LABELS = ['neutral', 'happy', 'angry', 'sad'] as const;

/**
 * Canonical emotion name -> its synonyms (lower case; the canonical name is one of them). The canonical names are
 * the paper's six ({@link CREMA_D_LABELS}) plus `surprised` and `calm`; `ps` is TESS's "pleasant surprise".
 */
export const EMOTION_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  angry: ['angry', 'anger', 'ang'],
  disgust: ['disgust', 'disgusted', 'dis'],
  fear: ['fear', 'fearful', 'scared', 'afraid', 'fea'],
  happy: ['happy', 'happiness', 'joy', 'hap'],
  neutral: ['neutral', 'neu'],
  sad: ['sad', 'sadness'],
  surprised: ['surprised', 'surprise', 'sur', 'ps'],
  calm: ['calm'],
};

const CANONICAL_BY_SYNONYM = new Map(
  Object.entries(EMOTION_SYNONYMS).flatMap(([canonical, synonyms]) => synonyms.map((synonym) => [synonym, canonical] as const)),
);

/** The canonical name of an emotion label, ignoring case and surrounding space ('Anger' -> 'angry'); undefined if unknown. */
export function canonicalEmotion(name: string): string | undefined {
  return CANONICAL_BY_SYNONYM.get(name.trim().toLowerCase());
}

/** A resolved label spec: `labels[i]` is class i; `map` sends each kept native label to its class name. */
export interface LabelMapping {
  readonly labels: string[];
  readonly map: ReadonlyMap<string, string>;
}

/** The identity mapping over `available` (every class kept under its own name). */
export function identityMapping(available: readonly string[]): LabelMapping {
  return { labels: [...available], map: new Map(available.map((name) => [name, name])) };
}

/**
 * Resolves a spec string against the corpus's native labels. Unknown source names are an EDATA error listing
 * the valid names; a spec that keeps nothing, or has an empty item or a dangling `=`, is an EARG error.
 */
export function parseLabelSpec(spec: string, available: readonly string[]): LabelMapping {
  const valid = (): string => `valid names: ${available.join(', ')}; presets: all, six (= crema-d)`;
  const items = spec.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new SerError(
      'EARG',
      'labels',
      `'${spec}': empty item (write names separated by commas, e.g. "angry,happy,sad" or "calm=neutral")`,
    );
  }
  const pairs: Array<[string, string]> = [];
  let hasPlainName = false;
  for (const item of items) {
    if (item === 'all') {
      hasPlainName = true;
      for (const name of available) pairs.push([name, name]);
    } else if (item === 'six' || item === 'crema-d') {
      hasPlainName = true;
      pairs.push(...mappingOnto(available, CREMA_D_LABELS).pairs);
    } else if (item.includes('=')) {
      const [from, to, extra] = item.split('=').map((part) => part.trim());
      if (!from || !to || extra !== undefined) {
        throw new SerError('EARG', 'labels', `'${item}' in '${spec}': a rename is written from=to, e.g. fearful=fear`);
      }
      pairs.push([from, to]);
    } else {
      hasPlainName = true;
      pairs.push([item, item]);
    }
  }
  const unknown = pairs.map(([from]) => from).filter((from) => !available.includes(from));
  if (unknown.length > 0) {
    throw new SerError(
      'EDATA',
      'labels',
      `'${spec}': unknown label${unknown.length > 1 ? 's' : ''} ${[...new Set(unknown)].join(', ')}; ${valid()}`,
    );
  }
  const map = new Map<string, string>();
  for (const [from, to] of pairs) {
    const previous = map.get(from);
    if (previous !== undefined && previous !== to) {
      throw new SerError('EARG', 'labels', `'${spec}': '${from}' is mapped to both '${previous}' and '${to}'`);
    }
    map.set(from, to);
  }
  if (!hasPlainName) {
    for (const name of available) if (!map.has(name)) map.set(name, name);
  }
  // Class order: first appearance of each target, in spec order (or native order for "only renames").
  const order = hasPlainName ? pairs.map(([, to]) => to) : available.map((name) => map.get(name) as string);
  const labels = [...new Set(order)];
  if (labels.length < 2) {
    throw new SerError(
      'EARG',
      'labels',
      `'${spec}' keeps ${labels.length} class${labels.length === 1 ? '' : 'es'}; a classifier needs at least 2 (${valid()})`,
    );
  }
  return { labels, map };
}

/**
 * How a corpus with native labels `available` maps onto a model's classes `target`: each label goes to the
 * target class of the same name, else one equal ignoring case, else one with the same canonical emotion
 * (anger -> angry, fearful -> fear). Labels with no counterpart are listed in `unmapped`.
 * Used to evaluate a model on a corpus it was not trained on, and by the `six` preset.
 */
export function mappingOnto(
  available: readonly string[],
  target: readonly string[],
): { pairs: Array<[string, string]>; mapping: LabelMapping; unmapped: string[] } {
  const pairs: Array<[string, string]> = [];
  const unmapped: string[] = [];
  for (const name of available) {
    const lowerCase = name.toLowerCase();
    const canonical = canonicalEmotion(name);
    const to =
      target.find((candidate) => candidate === name) ??
      target.find((candidate) => candidate.toLowerCase() === lowerCase) ??
      (canonical && target.find((candidate) => canonicalEmotion(candidate) === canonical));
    if (to === undefined) unmapped.push(name);
    else pairs.push([name, to]);
  }
  // Order pairs by the target's class order so the preset's class order is the target's.
  pairs.sort((a, b) => target.indexOf(a[1]) - target.indexOf(b[1]));
  return { pairs, mapping: { labels: [...target], map: new Map(pairs) }, unmapped };
}
