/**
 * Emotion label sets and the `--labels` spec that selects and renames classes.
 *
 * Native label names (what the corpus readers produce):
 * - CREMA-D, 6 classes: angry, disgust, fear, happy, neutral, sad (file codes ANG DIS FEA HAP NEU SAD).
 * - RAVDESS, 8 classes: neutral, calm, happy, sad, angry, fearful, disgust, surprised (file codes 01..08).
 *
 * Spec grammar (comma-separated items, whitespace ignored):
 * - `name`         keep the class `name`;
 * - `from=to`      keep the class `from`, renamed `to` (several sources may map onto one target);
 * - a preset name: `all` (every native class), `crema-d` (the CREMA-D six, see {@link CREMA_D_ALIASES}).
 * If the spec lists at least one plain `name`, ONLY the listed classes are kept (others are dropped);
 * if it holds only `from=to` items, every other class is kept under its own name. The class order (the
 * model's output index) is the order in which targets first appear; for "only renames" it is the native
 * order with renames applied.
 *   "angry,happy,sad"              -> [angry, happy, sad], the rest dropped
 *   "calm=neutral,fearful=fear"    -> RAVDESS: [neutral, happy, sad, angry, fear, disgust, surprised]
 *   "crema-d" on RAVDESS           -> [angry, disgust, fear, happy, neutral, sad]; calm and surprised dropped
 */
import { SerError } from '../errors.js';

export const CREMA_D_LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'] as const;
export const RAVDESS_LABELS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;

/**
 * Other corpora's names for CREMA-D's classes, used by the `crema-d` preset and by {@link mappingOnto}.
 * RAVDESS `fearful` is CREMA-D `fear`; RAVDESS `calm` and `surprised` have no CREMA-D class and are dropped
 * (calm is not neutral: RAVDESS actors were asked for a distinct "calm" portrayal; map it yourself with
 * `calm=neutral` if you want it).
 */
export const CREMA_D_ALIASES: Readonly<Record<string, string>> = { fearful: 'fear' };

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
  const valid = (): string => `valid names: ${available.join(', ')}; presets: all, crema-d`;
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
    } else if (item === 'crema-d') {
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
 * How a corpus with native labels `available` maps onto a model's classes `target`: same name, or an alias
 * from {@link CREMA_D_ALIASES} (fearful -> fear). Labels with no counterpart are listed in `unmapped`.
 * Used to evaluate a model on a corpus it was not trained on.
 */
export function mappingOnto(
  available: readonly string[],
  target: readonly string[],
): { pairs: Array<[string, string]>; mapping: LabelMapping; unmapped: string[] } {
  const pairs: Array<[string, string]> = [];
  const unmapped: string[] = [];
  for (const name of available) {
    const alias = CREMA_D_ALIASES[name];
    const reverse = Object.keys(CREMA_D_ALIASES).find((key) => CREMA_D_ALIASES[key] === name);
    const to = target.includes(name)
      ? name
      : alias && target.includes(alias)
        ? alias
        : reverse && target.includes(reverse)
          ? reverse
          : undefined;
    if (to === undefined) unmapped.push(name);
    else pairs.push([name, to]);
  }
  // Order pairs by the target's class order so the preset's class order is the target's.
  pairs.sort((a, b) => target.indexOf(a[1]) - target.indexOf(b[1]));
  return { pairs, mapping: { labels: [...target], map: new Map(pairs) }, unmapped };
}
