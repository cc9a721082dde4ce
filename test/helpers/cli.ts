import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Node arguments that run the CLI from the sources (`node --import tsx src/cli/main.ts`), for tests that spawn it.
 * Not bin/ (which prefers dist/): in a working tree dist/ is whatever was last built, so a test would run stale code.
 * The packaging test covers the built CLI.
 */
export const CLI_FROM_SOURCES: readonly string[] = ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts')];
