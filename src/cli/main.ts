#!/usr/bin/env node
/**
 * `ser`: the command line. Parsing only: each command lives in its own file under src/cli/, exports
 * `register(program)`, and calls the public API. A SerError prints as one clear line and exit code 1;
 * anything else is a bug and prints its stack.
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof SerError) {
    process.stderr.write(`ser: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
