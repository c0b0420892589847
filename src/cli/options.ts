/** Flag parsing shared by the `ser` commands: numbers with their bounds, the default feature cache folder. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SerError } from '../errors.js';

/** Parses a numeric flag; EARG quoting the flag and the value when it is not a (bounded, integer) number. */
export function parseNumber(flag: string, text: string, options: { integer?: boolean; min?: number } = {}): number {
  const value = Number(text);
  const kind = options.integer ? 'an integer' : 'a number';
  const bound = options.min === undefined ? '' : options.min === Number.MIN_VALUE ? ' > 0' : ` >= ${options.min}`;
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (options.integer && !Number.isInteger(value)) ||
    (options.min !== undefined && value < options.min)
  ) {
    throw new SerError('EARG', 'cli', `${flag} must be ${kind}${bound} ('${text}' given)`);
  }
  return value;
}

/** $XDG_CACHE_HOME/speech-emotion, else ~/.cache/speech-emotion. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'speech-emotion');
}
