/**
 * `ser stream`: emotion of audio arriving on stdin (a WAV stream, or raw PCM with --raw), one JSON line per window
 * as soon as the window is complete: {"startS", "endS", "label", "probabilities", "speech"}. Windows without
 * speech (src/audio/vad.ts) say label "silence". E.g. `ffmpeg -i call.mp3 -f wav - | ser stream`.
 */
import type { Command } from 'commander';
import { SerError } from '../errors.js';
import { PcmStreamDecoder, RAW_ENCODINGS, rawFormat } from '../stream/pcm-input.js';
import { openStream } from '../stream/node.js';
import type { StreamWindow } from '../stream/recognizer.js';
import { parseNumber } from './options.js';

interface StreamFlags {
  model?: string;
  window?: string;
  hop?: string;
  raw?: boolean;
  rate?: string;
  channels?: string;
  encoding: string;
  vad: boolean;
  threads?: string;
}

export function register(program: Command): void {
  program
    .command('stream')
    .description('classify audio from stdin window by window as it arrives (WAV stream, or raw PCM with --raw); one JSON line per window')
    .option('--model <run_dir>', 'run directory made by ser train (default: the shipped model)')
    .option('--window <seconds>', "window length (default: the run's clip length)")
    .option('--hop <seconds>', 'seconds between window starts (default: the window length)')
    .option('--raw', 'stdin is headerless PCM (give --rate; --encoding, --channels)')
    .option('--rate <hz>', 'with --raw: sample rate in Hz')
    .option('--channels <n>', 'with --raw: interleaved channels', '1')
    .option('--encoding <name>', `with --raw: ${Object.keys(RAW_ENCODINGS).join(', ')}`, 's16le')
    .option('--no-vad', 'classify every window (default: windows without speech are reported as "silence")')
    .option('--threads <n>', 'ONNX Runtime threads (default 2)')
    .action(async (flags: StreamFlags) => {
      const number = (flag: string, text: string | undefined, integer = false) =>
        text === undefined ? undefined : parseNumber(flag, text, { integer, min: integer ? 1 : Number.MIN_VALUE });
      if (flags.raw && flags.rate === undefined)
        throw new SerError('EARG', 'stream', '--raw needs --rate (the sample rate of the PCM on stdin)');
      if (!flags.raw && flags.rate !== undefined)
        throw new SerError('EARG', 'stream', '--rate is for --raw only (a WAV stream states its rate)');
      const raw = flags.raw
        ? rawFormat(flags.encoding, number('--rate', flags.rate, true) as number, number('--channels', flags.channels, true) as number)
        : undefined;
      const decoder = new PcmStreamDecoder('stdin', raw);
      const settings = {
        windowS: number('--window', flags.window),
        hopS: number('--hop', flags.hop),
        threads: number('--threads', flags.threads, true),
      };
      const print = (windows: StreamWindow[]) => {
        for (const w of windows) process.stdout.write(JSON.stringify(w) + '\n');
      };
      let stream: Awaited<ReturnType<typeof openStream>> | null = null;
      try {
        for await (const bytes of process.stdin as AsyncIterable<Buffer>) {
          const channels = decoder.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          if (channels.length === 0) continue;
          stream ??= await openStream(flags.model, {
            ...settings,
            inputRateHz: decoder.format?.sampleRateHz as number,
            speechGate: flags.vad ? undefined : null,
          });
          print(await stream.recognizer.push(channels));
        }
        decoder.end();
        if (!stream) throw new SerError('EAUDIO', 'stream', 'stdin held no audio samples');
        print(await stream.recognizer.end());
      } finally {
        await stream?.release();
      }
    });
}
