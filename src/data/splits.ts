/**
 * Train / validation / test splits, seeded and saved as JSON so a run can be repeated exactly.
 *
 * Part sizes follow scikit-learn's `train_test_split(test_size=0.3)` applied twice, as in the CNN-TM paper:
 *   test = ceil(0.30 * N), validation = ceil(0.10 * (N - test)), train = the rest.
 *   CREMA-D, N = 7,442: test 2,233, validation 521, train 4,688. RAVDESS 1,080: 324 / 76 / 680.
 *
 * Two protocols; every number reported must say which one it comes from:
 * - 'random-stratified': each class is split in proportion (largest-remainder allocation, so the part totals
 *   are exact), utterances drawn at random. Speakers and sentences appear in several parts (optimistic).
 * - 'speaker-disjoint': whole speakers are assigned to parts (no speaker in two parts), greedily then improved by
 *   moves and swaps, to bring each part's per-class counts (and per-sex counts when known) close to the same
 *   proportions. Part sizes are then only approximately those above (speakers come in blocks).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SerError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Utterance } from './corpus.js';
import { type Random, mulberry32, shuffleInPlace } from './prng.js';

export type SplitProtocol = 'random-stratified' | 'speaker-disjoint' | 'leave-one-corpus-out';
export const PART_NAMES = ['train', 'validation', 'test'] as const;
export type PartName = (typeof PART_NAMES)[number];

/** Options of the split functions. */
export interface SplitOptions {
  /** PRNG seed (mulberry32); the same seed and utterances give the same split. */
  seed: number;
  /** Fraction of all utterances for test; default 0.3. */
  testFraction?: number;
  /** Fraction of the non-test utterances for validation; default 0.1; 0: no validation part. */
  validationFraction?: number;
  /** Class order recorded in the split (default: labels of the utterances, sorted). */
  labels?: readonly string[];
}

/** A split as saved to JSON: utterances are named by their corpus-relative `id`. */
export interface Split {
  format: 'ser-split/1';
  protocol: SplitProtocol;
  seed: number;
  testFraction: number;
  validationFraction: number;
  labels: string[];
  /** Utterance ids per part, sorted. */
  parts: Record<PartName, string[]>;
  /** Utterances per part per class. */
  counts: Record<PartName, Record<string, number>>;
  /** Speakers per part, sorted (speaker-disjoint only). */
  speakers?: Record<PartName, string[]>;
  /** The rule that fixed the test part, when one did (see speakerDisjointSplit). */
  heldOut?: HeldOut;
}

/** The parts' utterances. */
export type SplitParts = Record<PartName, Utterance[]>;

/** sklearn's sizes: test = ceil(testFraction * n), validation = ceil(validationFraction * (n - test)). */
export function partSizes(n: number, testFraction = 0.3, validationFraction = 0.1): Record<PartName, number> {
  const test = Math.ceil(testFraction * n);
  const validation = Math.ceil(validationFraction * (n - test));
  return { train: n - test - validation, validation, test };
}

/**
 * Splits `total` over groups in proportion to `weights` (largest remainder: floors, then +1 to the largest
 * fractional parts; ties broken at random) so the result sums to `total` exactly.
 */
export function allocateProportionally(weights: readonly number[], total: number, random: Random): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const quotas = weights.map((w) => (w * total) / sum);
  const out = quotas.map(Math.floor);
  const order = shuffleInPlace(
    quotas.map((_, i) => i),
    random,
  ).sort((a, b) => (quotas[b] as number) - Math.floor(quotas[b] as number) - ((quotas[a] as number) - Math.floor(quotas[a] as number)));
  let missing = total - out.reduce((a, b) => a + b, 0);
  for (const i of order) {
    if (missing <= 0) break;
    out[i] = (out[i] as number) + 1;
    missing--;
  }
  return out;
}

function validate(
  utterances: readonly Utterance[],
  options: SplitOptions,
): { testFraction: number; validationFraction: number; labels: string[] } {
  const testFraction = options.testFraction ?? 0.3;
  const validationFraction = options.validationFraction ?? 0.1;
  if (!(testFraction > 0 && testFraction < 1))
    throw new SerError('EARG', 'split', `testFraction must be in (0, 1) (${testFraction} given)`);
  // 0: no validation part (a final fit on everything outside the test part; src/train/loop.ts TrainOptions.val).
  if (!(validationFraction >= 0 && validationFraction < 1))
    throw new SerError('EARG', 'split', `validationFraction must be in [0, 1) (${validationFraction} given)`);
  if (!Number.isInteger(options.seed)) throw new SerError('EARG', 'split', `seed must be an integer (${options.seed} given)`);
  const ids = new Set<string>();
  for (const u of utterances) {
    if (ids.has(u.id)) throw new SerError('EDATA', 'split', `utterance id '${u.id}' occurs twice; ids must be unique`);
    ids.add(u.id);
  }
  const sizes = partSizes(utterances.length, testFraction, validationFraction);
  if (sizes.train < 1)
    throw new SerError('EDATA', 'split', `${utterances.length} utterances are too few for train/validation/test parts (need at least 3)`);
  const labels = options.labels ? [...options.labels] : [...new Set(utterances.map((u) => u.label))].sort();
  const unknown = [...new Set(utterances.map((u) => u.label))].filter((label) => !labels.includes(label));
  if (unknown.length > 0)
    throw new SerError('EDATA', 'split', `labels ${unknown.join(', ')} are not in the label set ${labels.join(', ')}`);
  return { testFraction, validationFraction, labels };
}

function byId(a: Utterance, b: Utterance): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function record(
  protocol: SplitProtocol,
  options: SplitOptions,
  base: ReturnType<typeof validate>,
  parts: SplitParts,
  withSpeakers: boolean,
): Split {
  const split: Split = {
    format: 'ser-split/1',
    protocol,
    seed: options.seed,
    testFraction: base.testFraction,
    validationFraction: base.validationFraction,
    labels: base.labels,
    parts: { train: [], validation: [], test: [] },
    counts: { train: {}, validation: {}, test: {} },
  };
  for (const part of PART_NAMES) {
    split.parts[part] = parts[part].map((u) => u.id).sort();
    split.counts[part] = Object.fromEntries(base.labels.map((label) => [label, parts[part].filter((u) => u.label === label).length]));
  }
  if (withSpeakers) {
    split.speakers = { train: [], validation: [], test: [] };
    for (const part of PART_NAMES) split.speakers[part] = [...new Set(parts[part].map((u) => u.speaker))].sort();
  }
  return split;
}

/** Random split stratified by class, exact sklearn part sizes (see the module comment). */
export function randomStratifiedSplit(utterances: readonly Utterance[], options: SplitOptions): Split {
  const base = validate(utterances, options);
  const random = mulberry32(options.seed);
  const sizes = partSizes(utterances.length, base.testFraction, base.validationFraction);
  // Per class, a seeded shuffle of the id-sorted utterances: independent of the input order.
  const classes = base.labels.map((label) => shuffleInPlace(utterances.filter((u) => u.label === label).sort(byId), random));
  const testPerClass = allocateProportionally(
    classes.map((c) => c.length),
    sizes.test,
    random,
  );
  const validationPerClass = allocateProportionally(
    classes.map((c, i) => c.length - (testPerClass[i] as number)),
    sizes.validation,
    random,
  );
  const parts: SplitParts = { train: [], validation: [], test: [] };
  classes.forEach((items, i) => {
    const t = testPerClass[i] as number;
    const v = validationPerClass[i] as number;
    parts.test.push(...items.slice(0, t));
    parts.validation.push(...items.slice(t, t + v));
    parts.train.push(...items.slice(t + v));
  });
  return record('random-stratified', options, base, parts, false);
}

/** A test part fixed in advance: every utterance of a corpus (leave-one-corpus-out), or of the listed speakers. */
export interface HeldOut {
  /** Utterance `source` (the corpus tag of a mixture, see mixture.ts) whose utterances are all test. */
  corpus?: string;
  /** Speaker ids (as in the utterances: `ravdess/13` in a mixture, `13` in a single RAVDESS corpus) that are test. */
  speakers?: readonly string[];
}

/**
 * Speaker-disjoint split. Each part gets a target count per class, per sex and per corpus (the total times the
 * part's sklearn share); cost = sum of squared differences between counts and targets. Speakers are placed
 * largest first (ties in seeded random order) into the part where the cost grows least, then single moves and
 * pairwise swaps that lower the cost are applied until none does (at most 50 passes). Needs >= 3 speakers and
 * a speaker for every utterance.
 *
 * With `heldOut`, the test part is those utterances' speakers (locked there; a speaker with utterances on both
 * sides of the rule is an EDATA error) and the other speakers are split into train and validation the same way,
 * validation taking `validationFraction` of them; the protocol is then 'leave-one-corpus-out' for a corpus and
 * 'speaker-disjoint' for speakers.
 */
export function speakerDisjointSplit(utterances: readonly Utterance[], options: SplitOptions & { heldOut?: HeldOut }): Split {
  const base = validate(utterances, options);
  const withoutSpeaker = utterances.filter((u) => u.speaker === '').length;
  if (withoutSpeaker > 0) {
    throw new SerError(
      'EDATA',
      'split',
      `a speaker-disjoint split needs a speaker for every utterance; ${withoutSpeaker} have none (add a speaker column to the manifest)`,
    );
  }
  const random = mulberry32(options.seed);
  const groups = new Map<string, Utterance[]>();
  for (const u of [...utterances].sort(byId)) {
    const list = groups.get(u.speaker) ?? [];
    list.push(u);
    groups.set(u.speaker, list);
  }
  const speakers = [...groups.keys()].sort();
  const locked = lockedTestSpeakers(groups, options.heldOut);
  const free = speakers.filter((s) => !locked.has(s));
  if (free.length < (locked.size > 0 ? 2 : 3)) {
    throw new SerError(
      'EDATA',
      'split',
      `a speaker-disjoint split needs at least ${locked.size > 0 ? '2 speakers outside the test part' : '3 speakers'} (${free.length} found: ${free.slice(0, 10).join(', ')})`,
    );
  }

  const placement = new SpeakerPlacement(utterances, base, speakers, groups, locked);
  const size = (s: number): number => (groups.get(speakers[s] as string) as Utterance[]).length;
  // Largest speakers first; ties in seeded random order (stable sort after a shuffle).
  const order = shuffleInPlace(
    speakers.map((_, i) => i).filter((i) => !locked.has(speakers[i] as string)),
    random,
  ).sort((a, b) => size(b) - size(a));
  placement.placeGreedily(order);
  placement.fillEmptyParts(size);
  placement.improveLocally(order);

  const parts: SplitParts = { train: [], validation: [], test: [] };
  PART_NAMES.forEach((part, p) => {
    for (const s of [...placement.members[p]!].sort((a, b) => a - b))
      parts[part].push(...(groups.get(speakers[s] as string) as Utterance[]));
  });
  const protocol: SplitProtocol = options.heldOut?.corpus !== undefined ? 'leave-one-corpus-out' : 'speaker-disjoint';
  const split = record(protocol, options, base, parts, true);
  if (options.heldOut)
    split.heldOut = { ...options.heldOut, ...(options.heldOut.speakers ? { speakers: [...options.heldOut.speakers] } : {}) };
  return split;
}

/**
 * Speakers (by index into the sorted speaker list) placed in the three parts so that each part's counts per class,
 * per sex and per corpus come close to its share of the placed utterances: the cost of a part is the squared
 * distance of its count vector from its target. Speakers locked in the test part (a held-out corpus or test
 * speakers) stay there and are not counted; the other speakers fill train and validation only, then.
 */
class SpeakerPlacement {
  /** The speakers in each part (PART_NAMES order). */
  readonly members = PART_NAMES.map(() => new Set<number>());
  /** Whether a part takes free speakers (not the test part when it is held out). */
  private readonly placeable: boolean[];
  private readonly vectors: number[][];
  private readonly targets: number[][];
  private readonly counts: number[][];
  private readonly dims: number;

  constructor(
    utterances: readonly Utterance[],
    base: ReturnType<typeof validate>,
    speakers: readonly string[],
    groups: ReadonlyMap<string, Utterance[]>,
    locked: ReadonlySet<string>,
  ) {
    // Feature vector per speaker: counts per class, then per sex (unknown sex is its own category), then per corpus.
    const sexes = [...new Set(utterances.map((u) => u.sex ?? 'unknown'))].sort();
    const sources = [...new Set(utterances.map((u) => u.source ?? u.corpus))].sort();
    const dims = base.labels.length + sexes.length + sources.length;
    const vector = (items: readonly Utterance[]): number[] => {
      const v = new Array<number>(dims).fill(0);
      for (const u of items) {
        for (const d of [
          base.labels.indexOf(u.label),
          base.labels.length + sexes.indexOf(u.sex ?? 'unknown'),
          base.labels.length + sexes.length + sources.indexOf(u.source ?? u.corpus),
        ]) {
          v[d] = (v[d] as number) + 1;
        }
      }
      return v;
    };
    this.dims = dims;
    this.vectors = speakers.map((s) => vector(groups.get(s) as Utterance[]));
    const freeItems = speakers.filter((s) => !locked.has(s)).flatMap((s) => groups.get(s) as Utterance[]);
    const totals = vector(freeItems);
    // Part shares of the placed (free) utterances: sklearn's three parts, or train / validation beside a fixed test.
    const validation = Math.ceil(base.validationFraction * freeItems.length);
    const sizes =
      locked.size > 0
        ? { train: freeItems.length - validation, validation, test: 0 }
        : partSizes(freeItems.length, base.testFraction, base.validationFraction);
    // Validation takes no speaker when its fraction is 0.
    this.placeable = PART_NAMES.map((_, p) => (locked.size === 0 || p < 2) && (p !== 1 || validation > 0));
    this.targets = PART_NAMES.map((part) => totals.map((t) => (t * sizes[part]) / freeItems.length));
    this.counts = PART_NAMES.map(() => new Array<number>(dims).fill(0));
    for (const s of locked) this.members[2]!.add(speakers.indexOf(s));
  }

  /** Each speaker in `order` into the part where it raises the cost least. */
  placeGreedily(order: readonly number[]): void {
    for (const s of order) {
      let best = 0;
      let bestDelta = Number.POSITIVE_INFINITY;
      for (let p = 0; p < PART_NAMES.length; p++) {
        if (!this.placeable[p]) continue;
        const before = this.cost(p);
        this.add(p, s, 1);
        const delta = this.cost(p) - before;
        this.add(p, s, -1);
        if (delta < bestDelta - 1e-9) {
          bestDelta = delta;
          best = p;
        }
      }
      this.add(best, s, 1);
    }
  }

  /** Every part needs a speaker: moves the smallest speaker of the most populated part into an empty one. */
  fillEmptyParts(size: (s: number) => number): void {
    const { members, placeable } = this;
    for (let p = 0; p < PART_NAMES.length; p++) {
      if (members[p]!.size > 0 || !placeable[p]) continue;
      const donor = members.reduce((a, m, i) => (placeable[i] && m.size > (members[a] as Set<number>).size ? i : a), 0);
      const smallest = [...members[donor]!].sort((a, b) => size(a) - size(b))[0] as number;
      this.add(donor, smallest, -1);
      this.add(p, smallest, 1);
    }
  }

  /** Local search: moves (keeping parts non-empty) and swaps that lower the total cost, up to 50 passes. */
  improveLocally(order: readonly number[]): void {
    for (let pass = 0, improved = true; improved && pass < 50; pass++) {
      improved = this.tryMoves(order);
      improved = this.trySwaps(order) || improved;
    }
  }

  private tryMoves(order: readonly number[]): boolean {
    let improved = false;
    for (const s of order) {
      const from = this.partOf(s);
      for (let to = 0; to < PART_NAMES.length && this.members[from]!.size > 1; to++) {
        if (to === from || !this.placeable[to]) continue;
        const before = this.total();
        this.add(from, s, -1);
        this.add(to, s, 1);
        if (this.total() < before - 1e-9) {
          improved = true;
          break;
        }
        this.add(to, s, -1);
        this.add(from, s, 1);
      }
    }
    return improved;
  }

  private trySwaps(order: readonly number[]): boolean {
    let improved = false;
    for (const s of order) {
      for (const t of order) {
        const ps = this.partOf(s);
        const pt = this.partOf(t);
        if (ps >= pt) continue;
        const before = this.total();
        this.add(ps, s, -1);
        this.add(pt, t, -1);
        this.add(ps, t, 1);
        this.add(pt, s, 1);
        if (this.total() < before - 1e-9) {
          improved = true;
          continue;
        }
        this.add(ps, t, -1);
        this.add(pt, s, -1);
        this.add(ps, s, 1);
        this.add(pt, t, 1);
      }
    }
    return improved;
  }

  private cost(p: number): number {
    if (!this.placeable[p]) return 0;
    let c = 0;
    for (let d = 0; d < this.dims; d++) c += ((this.counts[p]![d] as number) - (this.targets[p]![d] as number)) ** 2;
    return c;
  }

  private total(): number {
    return this.cost(0) + this.cost(1) + this.cost(2);
  }

  private partOf(s: number): number {
    return this.members.findIndex((m) => m.has(s));
  }

  private add(p: number, s: number, sign: 1 | -1): void {
    const v = this.vectors[s] as number[];
    for (let d = 0; d < this.dims; d++) this.counts[p]![d] = (this.counts[p]![d] as number) + sign * (v[d] as number);
    if (sign > 0) this.members[p]!.add(s);
    else this.members[p]!.delete(s);
  }
}

/** The speakers `heldOut` puts in the test part; EDATA when it names nothing or a speaker straddles the rule. */
function lockedTestSpeakers(groups: ReadonlyMap<string, Utterance[]>, heldOut: HeldOut | undefined): Set<string> {
  const locked = new Set<string>();
  if (!heldOut) return locked;
  if ((heldOut.corpus === undefined) === (heldOut.speakers === undefined)) {
    throw new SerError('EARG', 'split', 'a held-out test part names either a corpus or speakers (not both, not neither)');
  }
  const inTest = (u: Utterance): boolean =>
    heldOut.corpus !== undefined ? (u.source ?? u.corpus) === heldOut.corpus : (heldOut.speakers as readonly string[]).includes(u.speaker);
  for (const [speaker, items] of groups) {
    const held = items.filter(inTest).length;
    if (held === items.length) locked.add(speaker);
    else if (held > 0) {
      throw new SerError(
        'EDATA',
        'split',
        `speaker ${speaker} has ${held} of ${items.length} utterances in the held-out corpus: a speaker must be on one side`,
      );
    }
  }
  if (heldOut.speakers) {
    const unknown = heldOut.speakers.filter((s) => !groups.has(s));
    if (unknown.length > 0) {
      const known = [...groups.keys()].sort();
      throw new SerError(
        'EDATA',
        'split',
        `test speaker${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not in the data (speakers: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`,
      );
    }
  }
  if (locked.size === 0) {
    const sources = [...new Set([...groups.values()].flat().map((u) => u.source ?? u.corpus))].sort();
    throw new SerError('EDATA', 'split', `held-out corpus '${heldOut.corpus}' has no utterances (corpora: ${sources.join(', ')})`);
  }
  return locked;
}

/**
 * `protocol` by name: 'random' or 'random-stratified', 'speaker' or 'speaker-disjoint' (optionally with held-out
 * test speakers), 'corpus' or 'leave-one-corpus-out' (with `heldOut.corpus`).
 */
export function makeSplit(protocol: string, utterances: readonly Utterance[], options: SplitOptions & { heldOut?: HeldOut }): Split {
  if (protocol === 'random' || protocol === 'random-stratified') {
    if (options.heldOut) throw new SerError('EARG', 'split', 'held-out test speakers or corpora need a speaker-disjoint split, not random');
    return randomStratifiedSplit(utterances, options);
  }
  if (protocol === 'speaker' || protocol === 'speaker-disjoint') {
    if (options.heldOut?.corpus !== undefined)
      throw new SerError('EARG', 'split', 'a held-out corpus is the leave-one-corpus-out protocol (corpus)');
    return speakerDisjointSplit(utterances, options);
  }
  if (protocol === 'corpus' || protocol === 'leave-one-corpus-out') {
    if (options.heldOut?.corpus === undefined)
      throw new SerError('EARG', 'split', 'leave-one-corpus-out needs the corpus to hold out (--test-corpus NAME)');
    return speakerDisjointSplit(utterances, options);
  }
  throw new SerError('EARG', 'split', `unknown split protocol '${protocol}' (expected random, speaker or corpus)`);
}

/**
 * A split given in advance (`ser train --split-file`: another run's split.json, or a published split written in the
 * ser-split/1 format) checked against the corpora it is used on: its classes must be the corpora's; every
 * id it names must be a recording of the corpora and every recording must be in one part (EDATA naming `source`
 * otherwise); under the speaker-disjoint protocols every recording needs a speaker and no speaker may be in two
 * parts. Recordings it names that were left out later (`kept` lacks them: unreadable, silent or too short) are
 * dropped from their part. Returns the split as used, with its counts (and speakers) recomputed: the run's split.json.
 */
export function adoptSplit(
  split: Split,
  corpus: { labels: readonly string[]; utterances: readonly Utterance[] },
  kept: readonly Utterance[],
  source: string,
): Split {
  const { labels, utterances } = corpus;
  if (split.labels.length !== labels.length || labels.some((label) => !split.labels.includes(label))) {
    throw new SerError(
      'EDATA',
      'split',
      `${source}: its classes are ${split.labels.join(', ')}, the corpora's ${labels.join(', ')}: give --labels ${split.labels.join(',')}`,
    );
  }
  const named = new Map<string, PartName>();
  for (const part of PART_NAMES) {
    for (const id of split.parts[part]) {
      if (named.has(id)) throw new SerError('EDATA', 'split', `${source}: '${id}' is in both ${named.get(id)} and ${part}`);
      named.set(id, part);
    }
  }
  const known = new Set(utterances.map((u) => u.id));
  const unknown = [...named.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new SerError(
      'EDATA',
      'split',
      `${source}: ${unknown.length} of its ${named.size} recordings are not in the corpora given (e.g. ${unknown.slice(0, 3).join(', ')}); ` +
        'ids are relative to the corpus folder, and with several corpora prefixed by the corpus tag (ravdess/Actor_01/...)',
    );
  }
  const unnamed = utterances.filter((u) => !named.has(u.id)).map((u) => u.id);
  if (unnamed.length > 0) {
    throw new SerError(
      'EDATA',
      'split',
      `${source}: ${unnamed.length} recordings of the corpora are in none of its parts (e.g. ${unnamed.slice(0, 3).join(', ')}): add them to a part, or leave their corpus out`,
    );
  }
  const disjoint = split.protocol !== 'random-stratified';
  if (disjoint) {
    // The protocol is printed on every report: a speaker-disjoint claim is taken only where it can be checked.
    const unknownSpeaker = utterances.filter((u) => u.speaker === '').length;
    if (unknownSpeaker > 0) {
      throw new SerError(
        'EDATA',
        'split',
        `${source}: its protocol is ${split.protocol}, but ${unknownSpeaker} recordings of the corpora have no speaker, so that cannot be checked: ` +
          'give the speakers (e.g. a manifest CSV with a speaker column, --dataset csv) or write "protocol": "random-stratified" in the file',
      );
    }
    const partOfSpeaker = new Map<string, PartName>();
    for (const u of utterances) {
      const part = named.get(u.id) as PartName;
      const seen = partOfSpeaker.get(u.speaker);
      if (seen !== undefined && seen !== part) {
        throw new SerError(
          'EDATA',
          'split',
          `${source}: its protocol is ${split.protocol} but speaker '${u.speaker}' is in both ${seen} and ${part}`,
        );
      }
      partOfSpeaker.set(u.speaker, part);
    }
  }
  const parts: SplitParts = { train: [], validation: [], test: [] };
  for (const u of kept) {
    const part = named.get(u.id);
    if (part !== undefined) parts[part].push(u);
  }
  const base = { testFraction: split.testFraction, validationFraction: split.validationFraction, labels: [...labels] };
  const adopted = record(split.protocol, { seed: split.seed }, base, parts, disjoint);
  return split.heldOut ? { ...adopted, heldOut: split.heldOut } : adopted;
}

/** Writes the split as pretty JSON, atomically. */
export function saveSplit(path: string, split: Split): void {
  writeFileAtomic(path, `${JSON.stringify(split, null, 1)}\n`);
}

/** Reads a split written by {@link saveSplit}; EIO if missing, EFORMAT if malformed. */
export function loadSplit(path: string): Split {
  if (!existsSync(path)) throw new SerError('EIO', 'split', `${path}: no such split file`);
  let value: Split;
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as Split;
  } catch (error) {
    throw new SerError('EFORMAT', 'split', `${path}: not valid JSON (${(error as Error).message})`);
  }
  const ok =
    value?.format === 'ser-split/1' &&
    (value.protocol === 'random-stratified' || value.protocol === 'speaker-disjoint' || value.protocol === 'leave-one-corpus-out') &&
    Array.isArray(value.labels) &&
    PART_NAMES.every((part) => Array.isArray(value.parts?.[part]));
  if (!ok)
    throw new SerError(
      'EFORMAT',
      'split',
      `${path}: not a ser-split/1 file (expected format, protocol, labels, parts.train/validation/test)`,
    );
  return value;
}

/**
 * The utterances of each part, in the split's (sorted id) order. Ids of the split missing from `utterances`
 * are an EDATA error (the split was made for another corpus or label set) unless `allowMissing`; utterances not
 * in the split are an EDATA error too (the corpus grew: make a new split).
 */
export function applySplit(split: Split, utterances: readonly Utterance[], options: { allowMissing?: boolean } = {}): SplitParts {
  const index = new Map(utterances.map((u) => [u.id, u]));
  const parts: SplitParts = { train: [], validation: [], test: [] };
  const missing: string[] = [];
  let assigned = 0;
  for (const part of PART_NAMES) {
    for (const id of split.parts[part]) {
      const u = index.get(id);
      if (u) {
        parts[part].push(u);
        assigned++;
      } else missing.push(id);
    }
  }
  if (missing.length > 0 && !options.allowMissing) {
    throw new SerError(
      'EDATA',
      'split',
      `${missing.length} utterance(s) of the split are not in the corpus (e.g. ${missing.slice(0, 3).join(', ')}); it was made for another corpus or label set: make a new split`,
    );
  }
  if (assigned < utterances.length) {
    const inSplit = new Set(PART_NAMES.flatMap((part) => split.parts[part]));
    const extra = utterances.filter((u) => !inSplit.has(u.id)).map((u) => u.id);
    throw new SerError(
      'EDATA',
      'split',
      `${extra.length} utterance(s) are in no part of the split (e.g. ${extra.slice(0, 3).join(', ')}): make a new split`,
    );
  }
  return parts;
}
