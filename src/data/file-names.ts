/**
 * File-name schemes: what the name (and, where the scheme has them, the folders) of a corpus's audio file say
 * about the recording. Each parser takes the file's path below the corpus folder, '/'-separated (a bare file
 * name where the scheme has no folders), and returns the native label (see labels.ts) with the speaker and
 * what else the name holds, or the reason the name does not follow the scheme. The extension is ignored;
 * codes are case-sensitive as the corpora write them.
 *
 * - CREMA-D `AAAA_SSS_EEE_LL`: actor 1001-1091, sentence code (3 letters, e.g. DFA), emotion ANG DIS FEA HAP NEU
 *   SAD, level LO MD HI XX (a few releases write X).
 * - RAVDESS `MM-CC-EE-II-SS-RR-AA`: modality (01 AV, 02 video, 03 audio), vocal channel (01 speech, 02 song),
 *   emotion 01..08 in RAVDESS_LABELS order, intensity (01 normal, 02 strong), statement 01/02, repetition 01/02,
 *   actor 01..24 (odd male, even female). Song is rejected: this toolkit models speech.
 * - nEMO `{speaker}_{emotion}_{sentence}` (in `samples/`): speaker e.g. EB0, emotion written out (anger fear
 *   happiness neutral sadness surprised), sentence id 1..90 (one id is one text for every speaker and emotion).
 *   Sex and age are not in the name: corpus.ts reads them from `data.tsv`.
 * - EMOVO `{emotion}-{speaker}-{sentence}` (in folders f1..m3): emotion dis gio neu pau rab sor tri (disgust joy
 *   neutral fear anger surprise sadness), speaker f1-f3 female, m1-m3 male, sentence code b1..n5.
 * - URDU `{Folder}/S{G}{X}_F{NN}_{E}{YY}`: sex G (M/F) and speaker number X, NN the speaker's file number, emotion
 *   letter E (A H N S: angry happy neutral sad), YY the number within the emotion; numbers have no fixed width
 *   (SM1_F7_A07, SM2_F1_A023). The speaker is G+X (M1): the README keeps X "the same for a particular speaker in
 *   all the emotions". When the file sits in a folder named after one of the four emotions (Angry Happy Neutral
 *   Sad, as released) the folder must agree with the letter. The release's names hold 29 speaker ids (18 male,
 *   11 female) where its README counts 38 speakers (27 male): some ids must cover several people, which keeps
 *   speaker-disjoint splits disjoint (only coarser).
 * - Korean emotiontts `{plain-to-emotional|emotional-to-emotional}/{speaker}/wav/{speaker}{NNNNN}`: speaker a
 *   lower-case code (ema, nea, ...) repeated as the file name's prefix; the file number's range is the emotion:
 *   00001-00100 neutral, 00101-00200 happy, 00201-00300 angry, 00301-00400 sad. The speakers' sex is not
 *   published; the texts are in `transcript/` beside `wav/`.
 * - folders `{label}/...`: the first folder below the corpus folder is the label, as written; deeper folders
 *   and file names are free. Names carry no speaker (''): a CSV manifest with a speaker column gives one.
 */
import { basename, extname } from 'node:path';
import { type EMOVO_LABELS, KOREAN_EMOTIONTTS_LABELS, NEMO_LABELS, RAVDESS_LABELS, URDU_LABELS } from './labels.js';

/** What a parser makes of one file's path: the native label and metadata, or why the name was rejected. */
export type NameParse =
  | { ok: true; label: string; speaker: string; sentence?: string; intensity?: string; sex?: string }
  | { ok: false; reason: string };

const CREMA_D_EMOTIONS: Record<string, string> = { ANG: 'angry', DIS: 'disgust', FEA: 'fear', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
const CREMA_D_LEVELS: Record<string, string> = { LO: 'low', MD: 'medium', HI: 'high', XX: 'unspecified', X: 'unspecified' };
const EMOVO_EMOTIONS: Record<string, (typeof EMOVO_LABELS)[number]> = {
  dis: 'disgust',
  gio: 'joy',
  neu: 'neutral',
  pau: 'fear',
  rab: 'anger',
  sor: 'surprise',
  tri: 'sadness',
};
const URDU_EMOTIONS: Record<string, (typeof URDU_LABELS)[number]> = { A: 'angry', H: 'happy', N: 'neutral', S: 'sad' };

function stem(path: string): string {
  return basename(path, extname(path));
}

/** CREMA-D `AAAA_SSS_EEE_LL`. */
export function parseCremaDName(path: string): NameParse {
  const match = /^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$/.exec(stem(path));
  if (!match) return { ok: false, reason: `name does not match CREMA-D's AAAA_SSS_EEE_LL (e.g. 1001_DFA_ANG_XX.wav)` };
  const [, actor, sentence, emotion, level] = match as unknown as [string, string, string, string, string];
  const label = CREMA_D_EMOTIONS[emotion];
  if (!label) return { ok: false, reason: `emotion code ${emotion} is not one of ${Object.keys(CREMA_D_EMOTIONS).join(' ')}` };
  const intensity = CREMA_D_LEVELS[level];
  if (!intensity) return { ok: false, reason: `level code ${level} is not one of ${Object.keys(CREMA_D_LEVELS).join(' ')}` };
  return { ok: true, label, speaker: actor, sentence, intensity };
}

/** RAVDESS `MM-CC-EE-II-SS-RR-AA`; song (vocal channel 02) is rejected. */
export function parseRavdessName(path: string): NameParse {
  const name = stem(path);
  const match = /^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$/.exec(name);
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
    speaker: name.slice(-2),
    sentence: name.slice(12, 14),
    intensity: intensity === 1 ? 'normal' : 'strong',
    sex: actor % 2 === 1 ? 'male' : 'female',
  };
}

/** nEMO `{speaker}_{emotion}_{sentence}`. */
export function parseNemoName(path: string): NameParse {
  const match = /^([A-Z]+\d+)_([a-z]+)_(\d+)$/.exec(stem(path));
  if (!match) return { ok: false, reason: `name does not match nEMO's {speaker}_{emotion}_{sentence} (e.g. EB0_anger_1.wav)` };
  const [, speaker, emotion, sentence] = match as unknown as [string, string, string, string];
  const label = NEMO_LABELS.find((name) => name === emotion);
  if (!label) return { ok: false, reason: `emotion ${emotion} is not one of ${NEMO_LABELS.join(' ')}` };
  return { ok: true, label, speaker, sentence };
}

/** EMOVO `{emotion}-{speaker}-{sentence}`; the speaker's letter gives the sex. */
export function parseEmovoName(path: string): NameParse {
  const match = /^([a-z]{3})-([fm]\d)-([a-z]\d)$/.exec(stem(path));
  if (!match) return { ok: false, reason: `name does not match EMOVO's {emotion}-{speaker}-{sentence} (e.g. rab-f1-b1.wav)` };
  const [, emotion, speaker, sentence] = match as unknown as [string, string, string, string];
  const label = EMOVO_EMOTIONS[emotion];
  if (!label) return { ok: false, reason: `emotion code ${emotion} is not one of ${Object.keys(EMOVO_EMOTIONS).join(' ')}` };
  return { ok: true, label, speaker, sentence, sex: speaker.startsWith('f') ? 'female' : 'male' };
}

/** URDU `S{G}{X}_F{NN}_{E}{YY}`, checked against an emotion-named parent folder. */
export function parseUrduName(path: string): NameParse {
  const match = /^S([MF])(\d+)_F\d+_([A-Z])\d+$/.exec(stem(path));
  if (!match) return { ok: false, reason: `name does not match URDU's S{G}{X}_F{NN}_{E}{YY} (e.g. SM1_F1_A01.wav)` };
  const [, sex, speakerNumber, letter] = match as unknown as [string, string, string, string];
  const label = URDU_EMOTIONS[letter];
  if (!label) return { ok: false, reason: `emotion letter ${letter} is not one of ${Object.keys(URDU_EMOTIONS).join(' ')}` };
  const folder = path.split('/').at(-2) ?? '';
  const folderLabel = URDU_LABELS.find((name) => name === folder.toLowerCase());
  if (folderLabel && folderLabel !== label) {
    return {
      ok: false,
      reason: `emotion letter ${letter} (${label}) disagrees with its folder ${folder} (move the file or correct its name)`,
    };
  }
  return { ok: true, label, speaker: `${sex}${speakerNumber}`, sex: sex === 'F' ? 'female' : 'male' };
}

/** Korean emotiontts `{speaker}{NNNNN}`: the number's hundred is the emotion. */
export function parseKoreanEmotionTtsName(path: string): NameParse {
  const match = /^([a-z]+)(\d{5})$/.exec(stem(path));
  if (!match) return { ok: false, reason: `name does not match Korean emotiontts's {speaker}{NNNNN} (e.g. ema00101.wav)` };
  const [, speaker, digits] = match as unknown as [string, string, string];
  const label = KOREAN_EMOTIONTTS_LABELS[Math.floor((Number(digits) - 1) / 100)];
  if (!label) {
    return {
      ok: false,
      reason: `file number ${digits} is outside 00001-00400 (00001-00100 neutral, 00101-00200 happy, 00201-00300 angry, 00301-00400 sad)`,
    };
  }
  return { ok: true, label, speaker };
}

/** folders `{label}/...`: the first folder is the label. */
export function parseLabelFolder(path: string): NameParse {
  const segments = path.split('/');
  if (segments.length < 2) {
    return {
      ok: false,
      reason: 'file directly in the corpus folder; the folders format reads ROOT/<label>/<file> (move it into its class folder)',
    };
  }
  return { ok: true, label: segments[0] as string, speaker: '' };
}
