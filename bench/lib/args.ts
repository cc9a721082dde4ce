import { fileURLToPath } from 'node:url';

/** The repository root (bench/ is one level down). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `--name=value` flags (a bare `--flag` is "true"); values may contain `=`. */
export function cliArgs(argv: string[] = process.argv.slice(2)): Map<string, string> {
  return new Map(argv.filter((a) => a.startsWith('--')).map((a) => [a.slice(2).split('=')[0]!, a.split('=').slice(1).join('=') || 'true']));
}

/** A numeric flag with its default. */
export function numberArg(args: Map<string, string>, name: string, fallback: number): number {
  const v = args.get(name);
  return v === undefined ? fallback : Number(v);
}
