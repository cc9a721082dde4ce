import { parseIsoDuration } from './duration.js';

/**
 * Custom JSON Schema formats, shared by the precompiled validators (src/generated/) and the generator that writes
 * them. `duration` is ISO-8601 as .NET reads it (ajv-formats' `duration` rejects PT0.5S).
 */
export const SCHEMA_FORMATS = {
  duration: { type: 'string', validate: (s: string): boolean => parseIsoDuration(s) !== null },
} as const;
