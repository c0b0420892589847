/**
 * The front-end configuration: one object describes the whole waveform -> log-mel pipeline, validated once here.
 * Field names follow torchaudio.transforms.MelSpectrogram + AmplitudeToDB (sample_rate, n_fft, win_length,
 * hop_length, n_mels, f_min, f_max, mel_scale, norm, top_db), in our units-in-the-name style.
 */
import { SerError } from '../errors.js';

export type MelScale = 'htk' | 'slaney';

export interface FrontEndConfig {
  /** Sample rate the waveform must have, Hz (audio is resampled to it on load). */
  readonly sampleRateHz: number;
  /** FFT size in samples; the spectrum has nFft / 2 + 1 bins. */
  readonly nFft: number;
  /** Periodic Hann window length in samples (<= nFft), zero-padded to nFft centred like torch.stft. */
  readonly winLength: number;
  /** Hop between frames in samples. */
  readonly hopLength: number;
  /** Number of mel bands. */
  readonly nMels: number;
  /** Lowest and highest filter-bank frequencies, Hz (0 <= fMinHz < fMaxHz <= sampleRateHz / 2). */
  readonly fMinHz: number;
  readonly fMaxHz: number;
  /** Hz <-> mel formula (see HERTZ_TO_MEL in mel.ts). */
  readonly melScale: MelScale;
  /** 'slaney': divide each triangle by its width in Hz / 2 (constant energy per band); null: peak 1. */
  readonly norm: 'slaney' | null;
  /** Per-clip dynamic range clamp: dB values below (max dB of the clip - topDb) are raised to it; null: none. */
  readonly topDb: number | null;
}

/** The project's front end (paper CNN-TM): 16 kHz, n_fft 1024, win 512, hop 256, 128 HTK mels 0-8000 Hz, top_db 80. */
export const DEFAULT_FRONT_END: FrontEndConfig = Object.freeze({
  sampleRateHz: 16000,
  nFft: 1024,
  winLength: 512,
  hopLength: 256,
  nMels: 128,
  fMinHz: 0,
  fMaxHz: 8000,
  melScale: 'htk',
  norm: null,
  topDb: 80,
});

export interface ResolveOptions {
  /** How to name each field in messages (the CLI passes its flags: { nFft: '--n-fft', ... }). */
  readonly names?: Partial<Record<keyof FrontEndConfig, string>>;
}

/**
 * Fills defaults and validates; every problem is reported at once, quoting the value received:
 * `features: invalid front end: winLength 2048 must be an integer in [1, nFft 1024]`.
 * If only sampleRateHz is overridden, fMaxHz follows it (sampleRateHz / 2), as torchaudio's f_max=None does.
 */
export function resolveFrontEnd(overrides: Partial<FrontEndConfig> = {}, options: ResolveOptions = {}): FrontEndConfig {
  const n = (field: keyof FrontEndConfig) => options.names?.[field] ?? field;
  const sampleRateHz = overrides.sampleRateHz ?? DEFAULT_FRONT_END.sampleRateHz;
  const config: FrontEndConfig = {
    ...DEFAULT_FRONT_END,
    fMaxHz: overrides.sampleRateHz !== undefined && overrides.fMaxHz === undefined ? sampleRateHz / 2 : DEFAULT_FRONT_END.fMaxHz,
    ...stripUndefined(overrides),
  };
  const problems: string[] = [];
  const isInt = (v: number, min: number, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(v) && v >= min && v <= max;
  if (!isInt(config.sampleRateHz, 1)) problems.push(`${n('sampleRateHz')} ${config.sampleRateHz} must be a positive integer`);
  if (!isInt(config.nFft, 2, 1 << 20)) problems.push(`${n('nFft')} ${config.nFft} must be an integer in [2, ${1 << 20}]`);
  if (!isInt(config.winLength, 1, config.nFft))
    problems.push(`${n('winLength')} ${config.winLength} must be an integer in [1, ${n('nFft')} ${config.nFft}]`);
  if (!isInt(config.hopLength, 1)) problems.push(`${n('hopLength')} ${config.hopLength} must be a positive integer`);
  if (!isInt(config.nMels, 1, 4096)) problems.push(`${n('nMels')} ${config.nMels} must be an integer in [1, 4096]`);
  const nyquist = config.sampleRateHz / 2;
  if (!(Number.isFinite(config.fMinHz) && config.fMinHz >= 0)) problems.push(`${n('fMinHz')} ${config.fMinHz} must be >= 0`);
  if (!(Number.isFinite(config.fMaxHz) && config.fMaxHz <= nyquist)) {
    problems.push(`${n('fMaxHz')} ${config.fMaxHz} must be <= ${n('sampleRateHz')} / 2 (${nyquist})`);
  }
  if (!(config.fMinHz < config.fMaxHz)) problems.push(`${n('fMinHz')} ${config.fMinHz} must be below ${n('fMaxHz')} ${config.fMaxHz}`);
  if (config.melScale !== 'htk' && config.melScale !== 'slaney')
    problems.push(`${n('melScale')} '${config.melScale}' must be 'htk' or 'slaney'`);
  if (config.norm !== null && config.norm !== 'slaney') problems.push(`${n('norm')} '${config.norm}' must be 'slaney' or null`);
  if (config.topDb !== null && !(Number.isFinite(config.topDb) && config.topDb >= 0)) {
    problems.push(`${n('topDb')} ${config.topDb} must be a number >= 0 (or none/null: no clamp)`);
  }
  if (problems.length > 0) throw new SerError('EARG', 'features', `invalid front end: ${problems.join('; ')}`);
  return Object.freeze(config);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Frames the centred STFT gives for `lengthSamples` samples: 1 + floor((L + 2 floor(nFft / 2) - nFft) / hop),
 * which is 1 + floor(L / hop) for even nFft (torch.stft with center=True).
 */
export function framesForSamples(lengthSamples: number, config: Pick<FrontEndConfig, 'hopLength' | 'nFft'>): number {
  const pad = Math.floor(config.nFft / 2);
  return 1 + Math.floor((lengthSamples + 2 * pad - config.nFft) / config.hopLength);
}

/** Samples in `durationS` seconds at the config's rate, rounded to the nearest sample. */
export function samplesFor(durationS: number, config: Pick<FrontEndConfig, 'sampleRateHz'>): number {
  return Math.round(durationS * config.sampleRateHz);
}

/** Frames for a clip of `durationS` seconds: 1 + floor(durationS * sr / hop) (even nFft); 3 s at the default -> 188. */
export function framesFor(
  durationS: number,
  config: Pick<FrontEndConfig, 'hopLength' | 'nFft' | 'sampleRateHz'> = DEFAULT_FRONT_END,
): number {
  return framesForSamples(samplesFor(durationS, config), config);
}

/**
 * A stable, readable key of everything that changes the features, for cache invalidation:
 * `logmel-v1:sr16000:nfft1024:win512:hop256:mels128:f0-8000:htk:norm-none:topdb80`.
 */
export function frontEndKey(config: FrontEndConfig): string {
  return [
    'logmel-v1',
    `sr${config.sampleRateHz}`,
    `nfft${config.nFft}`,
    `win${config.winLength}`,
    `hop${config.hopLength}`,
    `mels${config.nMels}`,
    `f${config.fMinHz}-${config.fMaxHz}`,
    config.melScale,
    `norm-${config.norm ?? 'none'}`,
    `topdb${config.topDb ?? 'none'}`,
  ].join(':');
}

/**
 * Everything needed to reproduce the features, as JSON-ready data (stored in feature files' metadata): the config
 * plus the fixed choices of this front end and its cache key.
 */
export function describeFrontEnd(config: FrontEndConfig): Record<string, unknown> {
  return {
    ...config,
    window: 'hann (periodic), zero-padded centred to nFft',
    center: true,
    padMode: 'reflect',
    power: 2,
    amin: 1e-10,
    topDbScope: 'clip',
    reference: 'torchaudio 0.13 MelSpectrogram + AmplitudeToDB("power", top_db)',
    key: frontEndKey(config),
  };
}
