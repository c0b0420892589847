#!/usr/bin/env node
/**
 * `ser`: the command line. Parsing only: each command lives in its own file under src/cli/, exports
 * `register(program)`, and calls the public API. A SerError prints as one clear line with its code
 * (`ser: decode: x.wav: ... [EDECODE]`; with --json also {"error", "code"} on stdout) and exit code 1;
 * anything else is a bug and prints its stack. A closed stdout (a reader that stopped) ends the process quietly.
 */
import { Command } from 'commander';
import { SerError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../io/paths.js';
import { registerCommands } from './commands.js';

const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command('ser')
  .description('speech-emotion: speech emotion recognition (CNN-TM) on ONNX Runtime')
  .version(version)
  .showHelpAfterError();
registerCommands(program);

// A reader that stops early (`ser predict --json *.wav | head -1`) closes the pipe: the next write fails with EPIPE.
// Stop quietly then, as Unix tools do, instead of dying of an unhandled 'error' event.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof SerError) {
    // With --json the error is one JSON object on stdout too, where the results would have been.
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: error.message, code: error.code })}\n`);
    process.stderr.write(`ser: ${error.message} [${error.code}]\n`);
    process.exit(1);
  }
  throw error;
}
