/**
 * Audio bytes as they arrive (stdin, a socket) -> samples per channel, for `ser stream`: a WAV stream (its header
 * read with src/audio/wav.ts parseFmt; the data size may be unknown, as ffmpeg writes to a pipe) or headerless
 * raw PCM of a stated format. Bytes of a partial sample frame wait for the next chunk.
 */
import { ascii, decodeError } from '../audio/chunks.js';
import { type SampleEncoding, deinterleave } from '../audio/pcm.js';
import { type WavFormat, parseFmt } from '../audio/wav.js';
import { SerError } from '../errors.js';

/** Raw PCM encodings `ser stream --raw` reads (ffmpeg's names: -f s16le, -f f32le). */
export const RAW_ENCODINGS: Readonly<Record<string, SampleEncoding>> = {
  s16le: { kind: 'int', bytes: 2, bigEndian: false },
  s32le: { kind: 'int', bytes: 4, bigEndian: false },
  f32le: { kind: 'float', bytes: 4, bigEndian: false },
  u8: { kind: 'uint', bytes: 1 },
  mulaw: { kind: 'ulaw', bytes: 1 },
  alaw: { kind: 'alaw', bytes: 1 },
};

/** Data sizes that mean "until the end of the stream" (see src/audio/wav.ts). */
const UNKNOWN_SIZES = new Set([0, 0xffffffff, 0x7ffff000, 0x7fffffff]);

export class PcmStreamDecoder {
  /** The format: given (raw) or read from the WAV header (null until the header is complete). */
  format: WavFormat | null;
  private pending: Uint8Array = new Uint8Array(0);
  /** WAV data bytes still to read (Infinity: until the end). */
  private remaining = Number.POSITIVE_INFINITY;

  /** `raw`: the stream has no header and holds this format. `source` names the stream in errors. */
  constructor(
    private readonly source: string,
    raw?: WavFormat,
  ) {
    this.format = raw ?? null;
  }

  /** The samples (one array per channel) `bytes` completes; [] while the header is incomplete. */
  push(bytes: Uint8Array): Float32Array[] {
    this.pending = join(this.pending, bytes);
    if (!this.format && !this.readHeader()) return [];
    const format = this.format as WavFormat;
    const frameBytes = format.channels * format.encoding.bytes;
    const usable = Math.min(this.pending.length, this.remaining);
    const frames = Math.floor(usable / frameBytes);
    if (frames === 0) return [];
    const channels = deinterleave(this.pending, 0, frames, format.channels, format.encoding);
    this.pending = this.pending.slice(frames * frameBytes);
    this.remaining -= frames * frameBytes;
    return channels;
  }

  /** The stream is over: EDECODE if it ended inside the WAV header. */
  end(): void {
    if (!this.format)
      throw decodeError(
        this.source,
        `the stream ended after ${this.pending.length} bytes, inside the WAV header (not a WAV stream? for raw PCM use --raw)`,
      );
  }

  /** Parses RIFF/WAVE, fmt and the data chunk's header from `pending`; false when more bytes are needed. */
  private readHeader(): boolean {
    const bytes = this.pending;
    if (bytes.length < 12) return false;
    const riff = ascii(bytes, 0, 4);
    if ((riff !== 'RIFF' && riff !== 'RIFX') || ascii(bytes, 8, 4) !== 'WAVE') {
      throw decodeError(this.source, `not a WAV stream (starts with '${ascii(bytes, 0, 4)}'); for headerless PCM use --raw with --rate`);
    }
    const bigEndian = riff === 'RIFX';
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let format: WavFormat | null = null;
    for (let at = 12; at + 8 <= bytes.length; ) {
      const id = ascii(bytes, at, 4);
      const size = view.getUint32(at + 4, !bigEndian);
      if (id === 'data') {
        if (!format) throw decodeError(this.source, 'the WAV data chunk comes before its fmt chunk (a stream needs fmt first)');
        this.format = format;
        this.remaining = UNKNOWN_SIZES.has(size) ? Number.POSITIVE_INFINITY : size;
        this.pending = bytes.slice(at + 8);
        return true;
      }
      const next = at + 8 + size + (size % 2);
      if (next > bytes.length) return false;
      if (id === 'fmt ') format = parseFmt(view, { id, start: at + 8, size }, bigEndian, this.source);
      at = next;
    }
    return false;
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The format of `--raw --encoding E --rate R --channels C`; EARG naming the encodings when E is unknown. */
export function rawFormat(encoding: string, sampleRateHz: number, channels: number): WavFormat {
  const known = RAW_ENCODINGS[encoding];
  if (!known) throw new SerError('EARG', 'stream', `unknown raw encoding '${encoding}' (one of ${Object.keys(RAW_ENCODINGS).join(', ')})`);
  return { encoding: known, sampleRateHz, channels };
}
