import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import { JsonSyntaxError, parseJsonWithPositions, toPlain, type JsonNode, type JsonValue } from '../source/json.js';

/** Parses JSON keeping value offsets; invalid JSON gives one `json/syntax` diagnostic with line and column. */
export function parseJsonSource(source: SourceText, diagnostics: Diagnostic[]): { root: JsonNode; value: JsonValue } | null {
  try {
    const root = parseJsonWithPositions(source.text);
    return { root, value: toPlain(root) };
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    diagnostics.push({ severity: 'error', code: 'json/syntax', message: `invalid JSON: ${e.message}`, file: source.file, ...source.positionAt(e.offset) });
    return null;
  }
}
