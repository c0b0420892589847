/**
 * WAV (RIFF/RIFX/RF64) parser, hand-written: the format is a handful of header fields and a chunk
 * list, simpler to read here than to trust a dependency with. Handles
 *   - WAVE_FORMAT_PCM (u8, 16/24/32-bit), IEEE_FLOAT (32/64), A-law, µ-law, and WAVE_FORMAT_EXTENSIBLE
 *     with the same four as its subformat GUID;
 *   - chunks in any order (LIST/fact/JUNK/bext before fmt or data, data before fmt), odd-sized chunks;
 *   - streamed files whose writer could not seek back to fill in the data size: 0xffffffff (ffmpeg),
 *     0x7ffff000 (sox), 0x7fffffff, or 0 followed by samples -> the samples are the rest of the file;
 *     RF64/BW64 take the size from their ds64 chunk.
 * Any other data size larger than what the file holds is a truncated file: the whole frames that are there are
 * decoded with a warning (as ffmpeg and sox do), never a silent short read. A trailing partial frame is dropped
 * (as libsndfile does).
 */
import { formatBytes } from '../errors.js';
import { type Chunk, ascii, checkStreamHeader, decodeError, listChunks, truncationWarning } from './chunks.js';
import type { DecodedAudio } from './decode.js';
import { type SampleEncoding, deinterleave, encodingLabel } from './pcm.js';

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Bytes 2..15 shared by every KSDATAFORMAT_SUBTYPE_* GUID whose first two bytes are a format tag. */
const SUBTYPE_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/**
 * Data sizes that mean "unknown length" (the writer could not seek back): 0xffffffff (ffmpeg),
 * 0x7ffff000 (sox), 0x7fffffff (the largest signed size, used by other recorders).
 */
const UNKNOWN_LENGTHS = new Set([0xffffffff, 0x7ffff000, 0x7fffffff]);

/** Names of codecs seen in the wild, to say what a file is when we cannot decode it. */
const KNOWN_CODECS = new Map<number, string>([
  [0x0002, 'Microsoft ADPCM'],
  [0x0011, 'IMA ADPCM'],
  [0x0022, 'TrueSpeech'],
  [0x0031, 'GSM 6.10'],
  [0x0040, 'G.721 ADPCM'],
  [0x0050, 'MPEG audio'],
  [0x0055, 'MPEG layer 3 (MP3)'],
  [0x0161, 'Windows Media Audio'],
  [0x2000, 'Dolby AC-3'],
]);

export interface WavFormat {
  channels: number;
  sampleRateHz: number;
  encoding: SampleEncoding;
}

/**
 * Where the samples of a WAV file are and how to read them. `bytes` may be a prefix of the file (its first
 * part, holding at least the headers): `fileLength` is the whole file's length, so the size checks see the
 * real file. `frames` is what the file holds (after the truncation rule); `warnings` says what was worked around.
 */
export interface PcmLayout {
  dataStart: number;
  frames: number;
  channels: number;
  sampleRateHz: number;
  encoding: SampleEncoding;
  format: string;
  warnings: string[];
}

export function wavLayout(bytes: Uint8Array, source: string, fileLength = bytes.length): PcmLayout {
  const riff = ascii(bytes, 0, 4);
  const bigEndian = riff === 'RIFX';
  const chunks = listChunks(bytes, 12, bigEndian);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const fmtChunk = chunks.find((c) => c.id === 'fmt ');
  const dataChunk = chunks.find((c) => c.id === 'data');
  if (!fmtChunk) {
    throw decodeError(source, `WAV file has no fmt chunk (${describeChunks(chunks, fileLength)}; truncated or corrupt)`);
  }
  const format = parseFmt(view, fmtChunk, bigEndian, source);
  if (!dataChunk) {
    throw decodeError(source, `WAV file has no data chunk (${describeChunks(chunks, fileLength)}; truncated or corrupt)`);
  }

  const available = fileLength - dataChunk.start;
  let dataBytes = dataChunk.size;
  if ((riff === 'RF64' || riff === 'BW64') && dataBytes === 0xffffffff) {
    const ds64 = chunks.find((c) => c.id === 'ds64');
    if (ds64 && ds64.size >= 16 && ds64.start + 16 <= bytes.length) {
      dataBytes = Number(view.getBigUint64(ds64.start + 8, true));
    }
  }
  const streamed =
    (UNKNOWN_LENGTHS.has(dataBytes) && dataBytes > available) ||
    (dataBytes === 0 && available > 0 && dataChunk === chunks[chunks.length - 1]);
  if (streamed) dataBytes = available;
  const frameBytes = format.channels * format.encoding.bytes;
  const warnings: string[] = [];
  if (dataBytes > available) {
    const problem =
      `data chunk claims ${formatBytes(dataBytes)} but the file has ${formatBytes(fileLength)} ` +
      `(only ${formatBytes(Math.max(available, 0))} after the data header; truncated or not a WAV file: re-download or re-export it)`;
    // Truncated: decode the whole frames that are there, as ffmpeg and sox do; nothing there is an error.
    if (available < frameBytes) throw decodeError(source, problem);
    dataBytes = available;
    warnings.push(truncationWarning(source, problem, Math.floor(available / frameBytes) / format.sampleRateHz));
  }
  return {
    dataStart: dataChunk.start,
    frames: Math.floor(dataBytes / frameBytes),
    channels: format.channels,
    sampleRateHz: format.sampleRateHz,
    encoding: format.encoding,
    format: `wav/${encodingLabel(format.encoding)}`,
    warnings,
  };
}

export function decodeWav(bytes: Uint8Array, source: string): DecodedAudio {
  return decodeLayout(bytes, wavLayout(bytes, source));
}

/**
 * The samples a layout describes, from `bytes` (the file or a prefix of it): at most `maxFrames` frames, and no
 * more than the prefix holds.
 */
export function decodeLayout(bytes: Uint8Array, layout: PcmLayout, maxFrames = Number.POSITIVE_INFINITY): DecodedAudio {
  const frameBytes = layout.channels * layout.encoding.bytes;
  const held = Math.floor(Math.max(0, bytes.length - layout.dataStart) / frameBytes);
  const frames = Math.min(layout.frames, maxFrames, held);
  return {
    channels: deinterleave(bytes, layout.dataStart, frames, layout.channels, layout.encoding),
    sampleRateHz: layout.sampleRateHz,
    format: layout.format,
    warnings: layout.warnings,
  };
}

export function parseFmt(view: DataView, chunk: Chunk, bigEndian: boolean, source: string): WavFormat {
  const little = !bigEndian;
  if (chunk.size < 16) throw decodeError(source, `WAV fmt chunk is ${chunk.size} bytes, expected at least 16 (corrupt header)`);
  if (chunk.start + 16 > view.byteLength) {
    throw decodeError(source, `the file ends ${view.byteLength - chunk.start} bytes into the 16-byte WAV fmt chunk (truncated file)`);
  }
  let tag = view.getUint16(chunk.start, little);
  const channels = view.getUint16(chunk.start + 2, little);
  const sampleRateHz = view.getUint32(chunk.start + 4, little);
  let bits = view.getUint16(chunk.start + 14, little);
  checkStreamHeader(source, 'WAV fmt chunk', channels, sampleRateHz);

  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (chunk.size < 40) throw decodeError(source, `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${chunk.size} bytes, expected 40 (corrupt header)`);
    if (chunk.start + 40 > view.byteLength) {
      throw decodeError(
        source,
        `the file ends ${view.byteLength - chunk.start} bytes into the 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk (truncated file)`,
      );
    }
    const guid = new Uint8Array(view.buffer, view.byteOffset + chunk.start + 24, 16);
    const subtype = view.getUint16(chunk.start + 24, true);
    if (!SUBTYPE_GUID_TAIL.every((b, i) => guid[i + 2] === b)) {
      throw decodeError(source, `WAVE_FORMAT_EXTENSIBLE subformat GUID ${formatGuid(guid)} is not supported (PCM or IEEE float expected)`);
    }
    tag = subtype;
    // bits stays the container size; the valid-bits field (chunk.start + 18) only says how many of
    // them carry signal, which left-justified scaling by the container already accounts for.
  }
  if (bits === 0) throw decodeError(source, 'WAV fmt chunk says 0 bits per sample (corrupt header)');

  const bytesPerSample = Math.ceil(bits / 8);
  let encoding: SampleEncoding;
  switch (tag) {
    case WAVE_FORMAT_PCM:
      if (bytesPerSample === 1) encoding = { kind: 'uint', bytes: 1 };
      else if (bytesPerSample <= 4) encoding = { kind: 'int', bytes: bytesPerSample as 2 | 3 | 4, bigEndian };
      else throw decodeError(source, `WAV integer PCM with ${bits} bits per sample is not supported (8 to 32 expected)`);
      break;
    case WAVE_FORMAT_IEEE_FLOAT:
      if (bits !== 32 && bits !== 64) {
        throw decodeError(source, `WAV float PCM with ${bits} bits per sample is not supported (32 or 64 expected)`);
      }
      encoding = { kind: 'float', bytes: bits / 8 === 4 ? 4 : 8, bigEndian };
      break;
    case WAVE_FORMAT_ALAW:
    case WAVE_FORMAT_MULAW:
      bits = 8;
      encoding = { kind: tag === WAVE_FORMAT_ALAW ? 'alaw' : 'ulaw', bytes: 1 };
      break;
    default: {
      const name = KNOWN_CODECS.get(tag);
      const hex = `0x${tag.toString(16).padStart(4, '0')}`;
      throw decodeError(
        source,
        `WAV codec ${hex}${name ? ` (${name})` : ''} is not supported; convert the file to PCM first, ` +
          'e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`',
      );
    }
  }
  return { channels, sampleRateHz, encoding };
}

/** A GUID as written in specs: Data1-Data2-Data3 are stored little-endian, the last 8 bytes as is. */
function formatGuid(g: Uint8Array): string {
  const hex = (indices: number[]) => indices.map((i) => (g[i] ?? 0).toString(16).padStart(2, '0')).join('');
  return `${hex([3, 2, 1, 0])}-${hex([5, 4])}-${hex([7, 6])}-${hex([8, 9])}-${hex([10, 11, 12, 13, 14, 15])}`;
}

function describeChunks(chunks: Chunk[], fileBytes: number): string {
  if (chunks.length === 0) return `no chunks in its ${formatBytes(fileBytes)}`;
  return `chunks found: ${chunks.map((c) => `'${c.id}'`).join(', ')} in ${formatBytes(fileBytes)}`;
}
