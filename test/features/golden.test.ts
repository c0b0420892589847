/**
 * LogMelFrontEnd == torchaudio 0.13 MelSpectrogram + AmplitudeToDB on ../shared/golden/melspec.safetensors,
 * every configuration x signal. Tolerances (and what we measured, 2026-11-25):
 * - mel power: |ours - torch| <= 2e-6 x the clip's peak power, every bin (measured <= 8e-7);
 * - dB: within 2e-3 dB wherever torch's power is > 1e-8 and within 80 dB of the clip's peak (measured <= 1.6e-3;
 *   below that torch's own float32 STFT is the noisier side: torch float32 vs float64 differs by up to 0.13 dB
 *   at powers near 1e-8 in the sweep), and equal to the clamp floor where torch clamps (top_db);
 * - shapes exactly; silence is exactly -100 dB (amin 1e-10) everywhere.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type FrontEndConfig, LogMelFrontEnd } from '../../src/features/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { hasShared, sharedDir } from '../helpers.js';

/** torchaudio keyword arguments as written in the golden metadata -> our config (torchaudio's defaults filled in). */
function fromTorchaudio(c: Record<string, unknown>): Partial<FrontEndConfig> {
  const nFft = (c.n_fft as number | undefined) ?? 400;
  const winLength = (c.win_length as number | undefined) ?? nFft;
  const sampleRateHz = c.sample_rate as number;
  return {
    sampleRateHz,
    nFft,
    winLength,
    hopLength: (c.hop_length as number | undefined) ?? Math.floor(winLength / 2),
    nMels: (c.n_mels as number | undefined) ?? 128,
    fMinHz: (c.f_min as number | undefined) ?? 0,
    fMaxHz: (c.f_max as number | null | undefined) ?? sampleRateHz / 2,
    melScale: (c.mel_scale as 'htk' | 'slaney' | undefined) ?? 'htk',
    norm: (c.norm as 'slaney' | null | undefined) ?? null,
    topDb: (c.top_db as number | null | undefined) ?? null,
  };
}

const POWER_TOLERANCE = 2e-6; // x clip peak
const DB_TOLERANCE = 2e-3; // dB
const DB_RANGE = 1e-8; // compare dB within 80 dB of the clip peak

describe('log-mel front end: torchaudio golden parity', { skip: hasShared ? false : 'needs ../shared/golden' }, () => {
  const golden = hasShared ? readSafetensors(join(sharedDir, 'golden', 'melspec.safetensors')) : null;
  const configs = hasShared ? (JSON.parse(golden!.metadata.configs!) as Record<string, Record<string, unknown>>) : {};
  for (const [configName, torchConfig] of Object.entries(configs)) {
    const frontEnd = new LogMelFrontEnd(fromTorchaudio(torchConfig));
    for (const signal of ['sweep_3s', 'noise_2_2s', 'speech_16k', 'silence_1s']) {
      it(`${configName} / ${signal}`, () => {
        const samples = golden!.tensors.get(`signal/${signal}`)!.data as Float32Array;
        const power = golden!.tensors.get(`mel_power/${configName}/${signal}`)!;
        const db = golden!.tensors.get(`mel_db/${configName}/${signal}`)!.data as Float32Array;
        const expected = power.data as Float32Array;
        const ours = frontEnd.melPower(samples);
        assert.deepEqual([ours.nMels, ours.frames], power.shape);
        const ourDb = frontEnd.logMel(samples);
        assert.deepEqual([ourDb.nMels, ourDb.frames], power.shape);

        let peak = 0;
        for (const value of expected) peak = Math.max(peak, value);
        let powerError = 0;
        for (let i = 0; i < expected.length; i++) powerError = Math.max(powerError, Math.abs(ours.data[i]! - expected[i]!));
        assert.ok(powerError <= POWER_TOLERANCE * peak, `max |power error| ${powerError} > ${POWER_TOLERANCE} x peak ${peak}`);

        let floor = Number.POSITIVE_INFINITY;
        for (const value of db) floor = Math.min(floor, value);
        let dbError = 0;
        let compared = 0;
        for (let i = 0; i < expected.length; i++) {
          const clamped = torchConfig.top_db !== null && db[i] === floor;
          if (clamped || (expected[i]! > 1e-8 && expected[i]! > DB_RANGE * peak)) {
            dbError = Math.max(dbError, Math.abs(ourDb.data[i]! - db[i]!));
            compared++;
          }
        }
        assert.ok(dbError <= DB_TOLERANCE, `max dB error ${dbError} over ${compared} bins`);
        if (signal === 'silence_1s') {
          assert.ok(
            ourDb.data.every((v) => v === -100),
            'silence must be -100 dB everywhere',
          );
        } else {
          assert.ok(compared > expected.length / 20, `only ${compared} bins compared`);
        }
      });
    }
  }
});
