import type { Command } from 'commander';

/** Every `ser` sub-command; each file under src/cli/ exports `register(program)`. */
export function registerCommands(program: Command): void {
  void program;
}
