/**
 * `ser features FILE [--out OUT.safetensors] [--png OUT.png] [--duration S] [front-end flags]`: the log-mel of one
 * audio file as tensor `mel_db` [n_mels, frames], front end and source described in the metadata, and/or as a picture.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadAudio } from '../audio/index.js';
import { SerError } from '../errors.js';
import { spectrogramPng } from '../eval/index.js';
import {
  DEFAULT_FRONT_END,
  type FrontEndConfig,
  LogMelFrontEnd,
  describeFrontEnd,
  fixLength,
  resolveFrontEnd,
  samplesFor,
} from '../features/index.js';
import { writeSafetensors } from '../io/safetensors.js';

interface FeaturesFlags {
  out?: string;
  png?: string;
  duration?: string;
  sampleRate?: string;
  nFft?: string;
  hop?: string;
  win?: string;
  nMels?: string;
  fMin?: string;
  fMax?: string;
  melScale?: string;
  norm?: string;
  topDb?: string;
}

/** Flag name of each front-end field, for messages. */
const FLAG_OF: Partial<Record<keyof FrontEndConfig, string>> = {
  sampleRateHz: '--sample-rate',
  nFft: '--n-fft',
  winLength: '--win',
  hopLength: '--hop',
  nMels: '--n-mels',
  fMinHz: '--f-min',
  fMaxHz: '--f-max',
  melScale: '--mel-scale',
  norm: '--norm',
  topDb: '--top-db',
};

export function register(program: Command): void {
  program
    .command('features')
    .description('write the log-mel spectrogram (dB) of an audio file as safetensors tensor mel_db [n_mels, frames]')
    .argument('<file>', 'audio file (WAV, AIFF, FLAC, MP3, Ogg; any rate and channel count)')
    .option('--out <path>', 'output .safetensors file')
    .option('--png <path>', 'write the spectrogram as a PNG image (low frequencies at the bottom); --out, --png or both')
    .option('--duration <seconds>', 'pad with zeros / crop from the start to this duration (default: the whole file)')
    .option('--sample-rate <hz>', `resample to this rate first (default ${DEFAULT_FRONT_END.sampleRateHz})`)
    .option('--n-fft <n>', `FFT size (default ${DEFAULT_FRONT_END.nFft})`)
    .option('--hop <n>', `hop length in samples (default ${DEFAULT_FRONT_END.hopLength})`)
    .option('--win <n>', `Hann window length in samples, <= n-fft (default ${DEFAULT_FRONT_END.winLength})`)
    .option('--n-mels <n>', `mel bands (default ${DEFAULT_FRONT_END.nMels})`)
    .option('--f-min <hz>', `lowest filter-bank frequency (default ${DEFAULT_FRONT_END.fMinHz})`)
    .option('--f-max <hz>', 'highest filter-bank frequency (default sample-rate / 2)')
    .option('--mel-scale <scale>', `htk | slaney (default ${DEFAULT_FRONT_END.melScale})`)
    .option('--norm <norm>', `slaney | none (default ${DEFAULT_FRONT_END.norm ?? 'none'})`)
    .option('--top-db <db>', `per-clip dynamic range clamp in dB, or none (default ${DEFAULT_FRONT_END.topDb ?? 'none'})`)
    .action(async (file: string, flags: FeaturesFlags) => {
      await runFeatures(file, flags);
    });
}

async function runFeatures(file: string, flags: FeaturesFlags): Promise<void> {
  const { out, png } = flags;
  if (out === undefined && png === undefined)
    throw new SerError('EARG', 'features', 'nothing to write: give --out FILE.safetensors, --png FILE.png or both');
  const { config, durationS } = parseFlags(flags);
  const frontEnd = new LogMelFrontEnd(config);
  const audio = await loadAudio(file, { sampleRateHz: config.sampleRateHz });
  for (const warning of audio.warnings) process.stderr.write(`ser: warning: ${warning}\n`);
  const samples = durationS === undefined ? audio.samples : fixLength(audio.samples, samplesFor(durationS, config));
  const melDb = frontEnd.logMel(samples);

  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of melDb.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const metadata: Record<string, string> = {
    front_end: JSON.stringify(describeFrontEnd(frontEnd.config)),
    source: file,
    source_sample_rate_hz: String(audio.sourceSampleRateHz),
    source_channels: String(audio.sourceChannels),
    source_format: audio.format,
    source_duration_s: String(audio.durationS),
    duration_s: String(samples.length / config.sampleRateHz),
  };
  if (out !== undefined) {
    writeOutput(out, () => writeSafetensors(out, { mel_db: { data: melDb.data, shape: [melDb.nMels, melDb.frames] } }, metadata));
  }
  if (png !== undefined) {
    const image = spectrogramPng(melDb, { dynamicRangeDb: config.topDb ?? 80 });
    writeOutput(png, () => writeFileSync(png, image));
  }

  const resampled = audio.sourceSampleRateHz === config.sampleRateHz ? '' : ` (resampled to ${config.sampleRateHz} Hz)`;
  const channels = audio.sourceChannels === 1 ? '1 channel' : `${audio.sourceChannels} channels (mixed to mono)`;
  const fitted = durationS === undefined ? '' : `, fitted to ${durationS} s`;
  const lines = [
    `${file}: ${audio.format}, ${audio.durationS.toFixed(3)} s${fitted}, ${audio.sourceSampleRateHz} Hz${resampled}, ${channels}`,
    `mel_db [${melDb.nMels}, ${melDb.frames}], ${min.toFixed(1)} .. ${max.toFixed(1)} dB (${describeFrontEnd(frontEnd.config).key})`,
    `wrote ${[out, png].filter((path) => path !== undefined).join(' and ')}`,
  ];
  const empty = frontEnd.filterBank.emptyBands;
  if (empty > 0) {
    lines.push(
      `note: ${empty} of ${melDb.nMels} mel bands contain no FFT bin (too many mels for n_fft ${config.nFft}); they hold the dB floor`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function writeOutput(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    if (error instanceof SerError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SerError('EIO', 'features', `${path}: cannot write (${code})`);
  }
}

/** Flags -> validated config; every bad value is reported in one EARG message. */
function parseFlags(flags: FeaturesFlags): { config: FrontEndConfig; durationS: number | undefined } {
  const problems: string[] = [];
  const number = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) {
      problems.push(`${flag} '${value}' is not a number`);
      return undefined;
    }
    return parsed;
  };
  const orNone = (flag: string, value: string | undefined): number | null | undefined =>
    value?.toLowerCase() === 'none' ? null : number(flag, value);
  const overrides: { -readonly [K in keyof FrontEndConfig]?: FrontEndConfig[K] } = {
    sampleRateHz: number('--sample-rate', flags.sampleRate),
    nFft: number('--n-fft', flags.nFft),
    hopLength: number('--hop', flags.hop),
    winLength: number('--win', flags.win),
    nMels: number('--n-mels', flags.nMels),
    fMinHz: number('--f-min', flags.fMin),
    fMaxHz: number('--f-max', flags.fMax),
    topDb: orNone('--top-db', flags.topDb),
  };
  if (flags.melScale !== undefined) {
    if (flags.melScale === 'htk' || flags.melScale === 'slaney') overrides.melScale = flags.melScale;
    else problems.push(`--mel-scale '${flags.melScale}' must be htk or slaney`);
  }
  if (flags.norm !== undefined) {
    if (flags.norm === 'slaney' || flags.norm === 'none') overrides.norm = flags.norm === 'none' ? null : 'slaney';
    else problems.push(`--norm '${flags.norm}' must be slaney or none`);
  }
  // With --n-fft alone, keep torchaudio's rule win_length <= n_fft by shrinking the default window.
  if (overrides.nFft !== undefined && overrides.winLength === undefined && overrides.nFft < DEFAULT_FRONT_END.winLength)
    overrides.winLength = overrides.nFft;
  const durationS = number('--duration', flags.duration);
  if (durationS !== undefined && !(durationS > 0)) problems.push(`--duration ${durationS} must be > 0 seconds`);
  let config: FrontEndConfig | undefined;
  try {
    config = resolveFrontEnd(overrides, { names: FLAG_OF });
  } catch (error) {
    if (!(error instanceof SerError)) throw error;
    problems.push(error.message.replace(/^features: invalid front end: /, ''));
  }
  if (problems.length > 0 || config === undefined) throw new SerError('EARG', 'features', problems.join('; '));
  return { config, durationS };
}
