/** JToken.ToString: Newtonsoft's JsonTextWriter output (indented and compact), string escaping, float format. */
import { DateTime, DateTimeOffset, formatNewtonsoftIsoDate } from '../datetime.js';
import { DotNetException } from '../exceptions.js';
import { doubleToString, isDotNetFormattable } from '../format.js';
import { JContainer, JObject, JProperty, JToken, JValue } from './tokens.js';

// ---- writing -------------------------------------------------------------------------------------------------------

/** Newtonsoft's JavaScriptUtils escaping with StringEscapeHandling.Default and a `"` quote. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u0085\u2028\u2029]/;

export function escapeJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0d:
        out += '\\r';
        break;
      default:
        if (c < 0x20 || c === 0x85 || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0');
        else out += s[i];
    }
  }
  return out + '"';
}

/** JsonConvert.ToString(double): R format with ".0" added to integral values; NaN/Infinity as strings. */
function floatToJson(x: number): string {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  const s = doubleToString(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function valueToJson(v: JValue): string {
  const c = v.Value;
  switch (v.Type) {
    case 'Null':
      return 'null';
    case 'Undefined':
      return 'undefined';
    case 'Integer':
      return String(c);
    case 'Float':
      return floatToJson(c as number);
    case 'Boolean':
      return c ? 'true' : 'false';
    case 'Raw':
      return String(c);
    case 'Comment':
      return `/*${String(c)}*/`;
    case 'Date':
      if (c instanceof DateTime) return escapeJsonString(formatNewtonsoftIsoDate(c));
      if (c instanceof DateTimeOffset) return escapeJsonString(c.toDotNetString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFzzz"));
      return escapeJsonString(String(c));
    case 'Bytes':
      return escapeJsonString(Buffer.from(c as Uint8Array).toString('base64'));
    case 'TimeSpan':
    case 'Guid':
    case 'Uri':
      return escapeJsonString(isDotNetFormattable(c) ? c.toDotNetString() : String(c));
    default:
      return escapeJsonString(String(c));
  }
}

/**
 * Trees built in code can be deeper than any parsed document (parsing stops at 64 levels). Writing recurses, and .NET
 * would overflow its stack on a 100,000-level tree; the emulator stops at this depth with the exception
 * RuntimeHelpers.EnsureSufficientExecutionStack raises (docs/expressions.md, "Limits").
 */
export const MAX_WRITE_DEPTH = 1000;

function tooDeep(): DotNetException {
  return new DotNetException(
    'InsufficientExecutionStackException',
    `Insufficient stack to continue executing the program safely: the JSON being written is nested more than ${MAX_WRITE_DEPTH} levels deep.`,
  );
}

export function writeJson(token: JToken, indented: boolean): string {
  const parts: string[] = [];
  const write = (t: JToken, level: number) => {
    if (level > MAX_WRITE_DEPTH) throw tooDeep();
    if (t instanceof JValue) {
      parts.push(valueToJson(t));
      return;
    }
    if (t instanceof JProperty) {
      parts.push(escapeJsonString(t.Name), indented ? ': ' : ':');
      write(t.Value, level);
      return;
    }
    const isObject = t instanceof JObject;
    const children = (t as JContainer).childList();
    const [open, close] = isObject ? ['{', '}'] : ['[', ']'];
    if (children.length === 0) {
      parts.push(open + close);
      return;
    }
    parts.push(open);
    children.forEach((c, i) => {
      if (i > 0) parts.push(',');
      if (indented) parts.push('\n' + '  '.repeat(level + 1));
      write(c, level + 1);
    });
    if (indented) parts.push('\n' + '  '.repeat(level));
    parts.push(close);
  };
  write(token, 0);
  return parts.join('');
}
