import type { Command } from 'commander';

/**
 * `apim-emulator test` (the scenario runner) registers itself here. Until it exists this registers nothing, so
 * main.ts does not change when it arrives.
 */
export function registerTestCommand(program: Command): void {
  void program;
}
