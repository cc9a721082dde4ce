/** JToken.Parse: Newtonsoft's JsonTextReader (positions and paths in JsonReaderException, DateParseHandling). */
import { parseNewtonsoftIsoDate } from '../datetime.js';
import { DotNetException, argumentNull } from '../exceptions.js';
import { JArray, JObject, JToken, JValue, jsonReaderError, propertyPathSegment } from './tokens.js';

// ---- reading -------------------------------------------------------------------------------------------------------

type ParseTarget = 'JToken' | 'JObject' | 'JArray';

interface PathEntry {
  kind: 'object' | 'array';
  name: string | null;
  index: number;
}

export const MAX_DEPTH = 64;

class JsonReader {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private readonly stack: PathEntry[] = [];

  constructor(private readonly text: string) {}

  private get column(): number {
    return this.pos - this.lineStart;
  }

  path(): string {
    let out = '';
    for (const e of this.stack) {
      if (e.kind === 'object') {
        if (e.name !== null) {
          const seg = propertyPathSegment(e.name);
          out += seg.startsWith('[') || out === '' ? seg : `.${seg}`;
        }
      } else if (e.index >= 0) out += `[${e.index}]`;
    }
    return out;
  }

  /**
   * Newtonsoft.Json 13 reads with JsonReader.MaxDepth = 64 by default (JToken.Parse, JObject.Parse,
   * JsonConvert.DeserializeObject): deeper documents fail with this JsonReaderException. It also bounds the
   * recursion of this reader (docs/expressions.md, "Limits").
   */
  private checkDepth(): void {
    if (this.stack.length > MAX_DEPTH) throw this.fail(`The reader's MaxDepth of ${MAX_DEPTH} has been exceeded.`);
  }

  /** Error at the character just read (1-based position = its column). */
  fail(message: string, position = this.column): DotNetException {
    return jsonReaderError(message, this.path(), this.line, position);
  }

  private newline(): void {
    this.line++;
    this.lineStart = this.pos;
  }

  /** Skips whitespace and comments; returns the next character without consuming it ('' at the end). */
  peek(): string {
    const t = this.text;
    for (;;) {
      if (this.pos >= t.length) return '';
      const c = t[this.pos]!;
      if (c === '\n') {
        this.pos++;
        this.newline();
      } else if (c === '\r') {
        this.pos++;
        if (t[this.pos] === '\n') this.pos++;
        this.newline();
      } else if (c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
        this.pos++;
      } else if (c === '/' && t[this.pos + 1] === '/') {
        while (this.pos < t.length && t[this.pos] !== '\n' && t[this.pos] !== '\r') this.pos++;
      } else if (c === '/' && t[this.pos + 1] === '*') {
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) {
          this.pos = t.length;
          throw this.fail('Unexpected end while parsing comment.');
        }
        for (let i = this.pos; i < end; i++) if (t[i] === '\n') ((this.pos = i + 1), this.newline());
        this.pos = end + 2;
      } else return c;
    }
  }

  readRoot(target: ParseTarget): JToken {
    const c = this.peek();
    if (c === '') throw jsonReaderError(`Error reading ${target} from JsonReader.`, '', 0, 0);
    if (target !== 'JToken') {
      const want = target === 'JObject' ? '{' : '[';
      if (c !== want) {
        const startLine = this.line;
        const startCol = this.column + 1;
        const kind = this.describeStart();
        throw jsonReaderError(
          `Error reading ${target} from JsonReader. Current JsonReader item is not ${target === 'JObject' ? 'an object' : 'an array'}: ${kind}.`,
          '',
          startLine,
          startCol,
        );
      }
    }
    const value = this.readValue();
    const after = this.peek();
    if (after !== '') {
      this.pos++;
      throw this.fail(`Additional text encountered after finished reading JSON content: ${after}.`);
    }
    return value;
  }

  /** The JsonToken name of the value starting here (for the "is not an object" message). */
  private describeStart(): string {
    const save = { pos: this.pos, line: this.line, lineStart: this.lineStart };
    try {
      const c = this.text[this.pos];
      if (c === '{') return 'StartObject';
      if (c === '[') return 'StartArray';
      const v = this.readValue();
      return v.Type === 'Null' ? 'Null' : v.Type;
    } catch {
      return 'None';
    } finally {
      this.pos = save.pos;
      this.line = save.line;
      this.lineStart = save.lineStart;
    }
  }

  private containerEnd(kind: 'JObject' | 'JArray'): DotNetException {
    return this.fail(`Unexpected end of content while loading ${kind}.`);
  }

  readValue(): JToken {
    const c = this.peek();
    if (c === '') throw this.fail('Unexpected end when reading JSON.');
    switch (c) {
      case '{':
        return this.readObject();
      case '[':
        return this.readArray();
      case '"':
      case "'":
        return this.readStringToken(c);
      case 't':
        return this.readLiteral('true', JValue.fromBoolean(true), 'Error parsing boolean value.');
      case 'f':
        return this.readLiteral('false', JValue.fromBoolean(false), 'Error parsing boolean value.');
      case 'n':
        return this.readLiteral('null', JValue.CreateNull(), 'Error parsing null value.');
      case 'u':
        return this.readLiteral('undefined', JValue.CreateUndefined(), 'Error parsing undefined value.');
      case 'N':
        return this.readLiteral('NaN', JValue.fromFloat(NaN), 'Cannot read NaN value.');
      case 'I':
        return this.readLiteral('Infinity', JValue.fromFloat(Infinity), 'Cannot read Infinity value.');
      default:
        if (c === '-' || c === '.' || (c >= '0' && c <= '9')) return this.readNumber();
        this.pos++;
        throw this.fail(`Unexpected character encountered while parsing value: ${c}.`);
    }
  }

  private readLiteral(word: string, value: JValue, message: string): JToken {
    const start = this.column + 1;
    if (this.text.startsWith(word, this.pos)) {
      const next = this.text[this.pos + word.length];
      if (next === undefined || !/[A-Za-z0-9_$]/.test(next)) {
        this.pos += word.length;
        return value;
      }
    }
    throw this.fail(message, start);
  }

  private readNumber(): JToken {
    const start = this.pos;
    while (this.pos < this.text.length && /[0-9A-Za-z.+\-]/.test(this.text[this.pos]!)) this.pos++;
    const s = this.text.slice(start, this.pos);
    if (s === '-Infinity') return JValue.fromFloat(-Infinity);
    if (/^-?\d+$/.test(s)) {
      // Newtonsoft reads a leading 0 followed by digits as octal.
      if (/^-?0\d+$/.test(s) && /^-?0[0-7]+$/.test(s)) {
        const neg = s.startsWith('-');
        const v = BigInt('0o' + s.slice(neg ? 2 : 1));
        return JValue.fromInteger(neg ? -v : v);
      }
      if (/^-?0\d+$/.test(s)) throw this.fail(`Input string '${s}' is not a valid integer.`);
      return JValue.fromInteger(BigInt(s));
    }
    if (/^-?0[xX][0-9a-fA-F]+$/.test(s)) {
      const neg = s.startsWith('-');
      const v = BigInt(s.slice(neg ? 1 : 0));
      return JValue.fromInteger(neg ? -v : v);
    }
    if (/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return JValue.fromFloat(Number(s));
    throw this.fail(`Input string '${s}' is not a valid number.`);
  }

  private readString(quote: string): string {
    const t = this.text;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      // Copy a run of ordinary characters in one slice.
      const runStart = this.pos;
      while (this.pos < t.length) {
        const code = t.charCodeAt(this.pos);
        if (code === 92 || code === 10 || code === 13 || t[this.pos] === quote) break;
        this.pos++;
      }
      if (this.pos > runStart) out += t.slice(runStart, this.pos);
      if (this.pos >= t.length) throw this.fail(`Unterminated string. Expected delimiter: ${quote}.`);
      const c = t[this.pos++]!;
      if (c === quote) return out;
      if (c === '\\') {
        if (this.pos >= t.length) throw this.fail(`Unterminated string. Expected delimiter: ${quote}.`);
        const e = t[this.pos++]!;
        switch (e) {
          case 'b':
            out += '\b';
            break;
          case 't':
            out += '\t';
            break;
          case 'n':
            out += '\n';
            break;
          case 'f':
            out += '\f';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
          case '"':
          case "'":
          case '/':
            out += e;
            break;
          case 'u': {
            const hex = t.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = Math.min(t.length, this.pos + 4);
              throw this.fail(`Invalid Unicode escape sequence: \\u${hex}.`);
            }
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            throw this.fail(`Bad JSON escape sequence: \\${e}.`);
        }
        continue;
      }
      if (c === '\n' || (c === '\r' && t[this.pos] !== '\n')) this.newline();
      out += c;
    }
  }

  private readStringToken(quote: string): JToken {
    const s = this.readString(quote);
    // DateParseHandling.DateTime: ISO-looking strings become Date tokens (Newtonsoft checks length 19..40 first).
    if (s.length >= 19 && s.length <= 40 && s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57) {
      const d = parseNewtonsoftIsoDate(s);
      if (d) return JValue.fromDate(d);
    }
    return JValue.CreateString(s);
  }

  private readObject(): JObject {
    this.pos++; // {
    const obj = new JObject();
    const entry: PathEntry = { kind: 'object', name: null, index: -1 };
    this.stack.push(entry);
    this.checkDepth();
    for (;;) {
      let c = this.peek();
      if (c === '') throw this.containerEnd('JObject');
      if (c === '}') {
        this.pos++;
        break;
      }
      let name: string;
      if (c === '"' || c === "'") name = this.readString(c);
      else if (/[A-Za-z0-9_$]/.test(c)) {
        const start = this.pos;
        while (this.pos < this.text.length && /[A-Za-z0-9_$]/.test(this.text[this.pos]!)) this.pos++;
        name = this.text.slice(start, this.pos);
      } else {
        this.pos++;
        throw this.fail(`Invalid property identifier character: ${c}.`);
      }
      entry.name = name;
      c = this.peek();
      if (c !== ':') {
        if (c === '') throw this.containerEnd('JObject');
        this.pos++;
        throw this.fail(`Invalid character after parsing property name. Expected ':' but got: ${c}.`);
      }
      this.pos++;
      if (this.peek() === '') throw this.containerEnd('JObject');
      const value = this.readValue();
      // DuplicatePropertyNameHandling.Replace: the last value wins, in the first one's place.
      obj.set(name, value);
      c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        break;
      }
      if (c === '') throw this.containerEnd('JObject');
      this.pos++;
      throw this.fail(`After parsing a value an unexpected character was encountered: ${c}.`);
    }
    this.stack.pop();
    return obj;
  }

  private readArray(): JArray {
    this.pos++; // [
    const arr = new JArray();
    const entry: PathEntry = { kind: 'array', name: null, index: -1 };
    this.stack.push(entry);
    this.checkDepth();
    for (;;) {
      let c = this.peek();
      if (c === '') throw this.containerEnd('JArray');
      if (c === ']') {
        this.pos++;
        break;
      }
      const value = this.readValue();
      entry.index++;
      arr.Add(value);
      c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        break;
      }
      if (c === '') throw this.containerEnd('JArray');
      this.pos++;
      throw this.fail(`After parsing a value an unexpected character was encountered: ${c}.`);
    }
    this.stack.pop();
    return arr;
  }
}

export function parseJson(json: string | null, target: ParseTarget): JToken {
  if (json === null) throw argumentNull('json');
  return new JsonReader(json).readRoot(target);
}
