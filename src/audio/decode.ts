/**
 * Audio decoding by content: the first bytes decide the format, never the file name (corpora ship
 * AIFF files named .wav). WAV and AIFF are parsed here (wav.ts, aiff.ts); MP3, FLAC, Ogg Vorbis and
 * Ogg Opus go through the `audio-decode` library (compressed.ts).
 */
import { formatBytes } from '../errors.js';
import { ascii, decodeError } from './chunks.js';
import { type CompressedFormat, decodeCompressed, id3v2Length, mpegStart, oggCodec } from './compressed.js';
import { decodeAiff } from './aiff.js';
import { decodeWav } from './wav.js';

export interface DecodedAudio {
  /** One array per channel, all the same length, samples in [-1, 1) scaled like torchaudio.load. */
  channels: Float32Array[];
  sampleRateHz: number;
  /** What was decoded: 'wav/pcm16', 'wav/pcmu8', 'wav/float32', 'aiff/pcm16', 'aifc/pcm16le', 'aifc/float32', 'mp3', 'flac', 'ogg/vorbis', 'ogg/opus', 'm4a', 'aac', 'webm', 'caf'. */
  format: string;
  /** Problems decoded around, e.g. a truncated file decoded as far as it goes; each names the source. */
  warnings?: string[];
}

export type AudioContainer = 'wav' | 'aiff' | CompressedFormat;

/**
 * Identifies the container from the first bytes, or null if it is none we decode:
 * 'RIFF'/'RIFX'/'RF64'/'BW64' + 'WAVE' -> wav; 'FORM' + 'AIFF'/'AIFC' -> aiff; 'fLaC' -> flac;
 * 'OggS' + 'OpusHead' or '\x01vorbis' in the first page -> ogg/opus, ogg/vorbis; an MPEG audio frame
 * header (optionally after an ID3v2 tag) -> mp3; 'ftyp' at byte 4 -> m4a (MP4 audio); an ADTS header -> aac;
 * the EBML magic -> webm (WebM/Matroska); 'caff' -> caf. An ID3v2 tag followed by 'fLaC' is FLAC.
 */
export function sniffFormat(bytes: Uint8Array): AudioContainer | null {
  const magic = ascii(bytes, 0, 4);
  if (['RIFF', 'RIFX', 'RF64', 'BW64'].includes(magic) && ascii(bytes, 8, 4) === 'WAVE') return 'wav';
  if (magic === 'FORM' && ['AIFF', 'AIFC'].includes(ascii(bytes, 8, 4))) return 'aiff';
  if (magic === 'OggS') {
    const codec = oggCodec(bytes);
    if (codec === 'opus') return 'ogg/opus';
    if (codec === 'vorbis') return 'ogg/vorbis';
    return null;
  }
  if (ascii(bytes, 4, 4) === 'ftyp') return 'm4a';
  if (magic === '\x1aE\xdf\xa3') return 'webm';
  if (magic === 'caff') return 'caf';
  const at = id3v2Length(bytes);
  if (ascii(bytes, at, 4) === 'fLaC') return 'flac';
  // ADTS: 12-bit sync 0xfff, layer bits 00 (MPEG audio frames have layer bits 01..11).
  if (bytes[at] === 0xff && ((bytes[at + 1] ?? 0) & 0xf6) === 0xf0) return 'aac';
  if (mpegStart(bytes) !== null) return 'mp3';
  return null;
}

/**
 * Decodes a whole audio file held in memory. `source` names it in error messages (a path or a name).
 * Throws SerError EDECODE for empty, truncated, corrupt or unsupported input; the message names the
 * source, the problem and what to do.
 */
export async function decodeAudio(bytes: Uint8Array, source: string): Promise<DecodedAudio> {
  if (bytes.length === 0) throw decodeError(source, 'file is empty (0 bytes); re-download or re-export it');
  const container = sniffFormat(bytes);
  switch (container) {
    case 'wav':
      return decodeWav(bytes, source);
    case 'aiff':
      return decodeAiff(bytes, source);
    case null:
      throw decodeError(source, describeUnknown(bytes));
    default:
      return decodeCompressed(bytes, container, source);
  }
}

const SUPPORTED = 'WAV, AIFF/AIFF-C, FLAC, MP3, Ogg Vorbis, Ogg Opus, AAC (M4A/MP4, ADTS), WebM/Matroska, CAF';

/** Says what unrecognised bytes look like, so the user knows what they have and what to do. */
export function describeUnknown(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  const hex = Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = Array.from(head, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  const shown = `${formatBytes(bytes.length)}, first bytes ${hex} ("${text}")`;
  const start = ascii(bytes, 0, 64).trimStart().toLowerCase();
  const magic = ascii(bytes, 0, 4);
  let guess: string;
  if (magic === 'OggS')
    guess = `an Ogg ${oggCodec(bytes)} stream; only Vorbis and Opus are supported: convert it, e.g. \`ffmpeg -i in.ogg out.wav\``;
  else if (magic === 'RIFF') guess = `a RIFF '${ascii(bytes, 8, 4)}' file, not 'WAVE' audio`;
  else if (magic === 'FORM') guess = `an IFF '${ascii(bytes, 8, 4)}' file, not AIFF audio`;
  else if (magic.startsWith('ADIF'))
    guess = 'ADIF AAC audio, not supported (ADTS and M4A are): convert it, e.g. `ffmpeg -i in.aac out.wav`';
  else if (start.startsWith('version https://git-lfs')) guess = 'a Git LFS pointer, not the audio: run `git lfs pull`';
  else if (start.startsWith('<!doctype') || start.startsWith('<html') || start.startsWith('<?xml')) {
    guess = 'an HTML/XML page (a failed download?)';
  } else if (head.length > 0 && head.every((b) => b === 0)) guess = 'all zero bytes (an unfinished copy or download?)';
  else guess = 'not a format we recognise';
  return `unknown audio format (${shown}): ${guess.startsWith('not ') ? guess : `looks like ${guess}`}; supported: ${SUPPORTED}`;
}
