import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import { editDistance } from '../diagnostics/edit-distance.js';
import { checkScript, MOCK_SCRIPT_LIMITS, type MockScript, type MockScriptEnd, type MockStep } from './script.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/**
 * The compact text form of a mock script, for the CLI (`--mock BACKEND_ID=SCRIPT`) and quick configuration:
 *
 *   script  := segment ( (";" | newline) segment )*
 *   segment := step | "then=" ( "repeat-last" | "cycle" | STATUS )
 *   step    := word ( whitespace word )*
 *   word    := STATUS | "aoai" | "reset" | "hang" | "ratelimit"   (a head word may end in xN / x* : "429x3")
 *            | "x" N | "x*" | key "=" value                       (value: bare, or "quoted" / 'quoted')
 *
 * Examples: `429x3 retry-after=7; 200`, `200 latency=150ms`, `reset`, `aoai`, `aoai stream-fail-after=3`, `500x2; aoai`,
 * `aoai tpm=1000 rpm=6` (quota for every deployment), `aoai tpm=gpt-4o:30000 tpm=gpt-4o-mini:1000` (per deployment).
 */
export const TEXT_FORM_WORDS = 'a status (200-599), aoai, reset, hang, ratelimit, xN / x*';
export const TEXT_FORM_OPTIONS = [
  'times',
  'status',
  'retry-after',
  'latency',
  'chunk-delay',
  'stream-fail-after',
  'ratelimit-requests',
  'ratelimit-tokens',
  'header',
  'body',
  'json',
  'model',
  'content',
  'completion-tokens',
  'region',
  'tpm',
  'rpm',
] as const;
const OPTION_ALIASES: Record<string, (typeof TEXT_FORM_OPTIONS)[number]> = { 'sse-fail-after': 'stream-fail-after', 'fail-after': 'stream-fail-after' };
const AOAI_OPTIONS = new Set(['model', 'content', 'completion-tokens', 'region', 'tpm', 'rpm']);
/** Azure OpenAI deployment names: letters, digits, ".", "_", "-". */
const DEPLOYMENT_NAME = /^[A-Za-z0-9._-]+$/;

interface Token {
  text: string;
  start: number;
  /** For key=value tokens. */
  key?: string;
  value?: string;
  valueStart?: number;
}

interface Segment {
  start: number;
  tokens: Token[];
}

export function parseMockScript(text: string, origin = 'mock script'): { script?: MockScript; diagnostics: Diagnostic[] } {
  const source = new SourceText(origin, text);
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number) => ({ file: origin, ...source.positionAt(offset) });
  const error = (offset: number, message: string, hint?: string, code: DiagnosticCode = 'mock/syntax') =>
    diagnostics.push({ severity: 'error', code, message, ...(hint ? { hint } : {}), ...at(offset) });
  if (text.length > MOCK_SCRIPT_LIMITS.textChars) {
    error(
      MOCK_SCRIPT_LIMITS.textChars,
      `the script is ${text.length} characters long; at most ${MOCK_SCRIPT_LIMITS.textChars} are accepted`,
      'a script is a few steps; use `xN` to repeat a step instead of writing it N times',
      'mock/too-large',
    );
    return { diagnostics };
  }

  const segments = tokenize(text, error);
  const steps: MockStep[] = [];
  const stepStarts: number[] = [];
  const fieldStarts: Array<Partial<Record<keyof MockStep, number>>> = [];
  let then: MockScriptEnd | undefined;
  let thenOffset = text.length;

  for (let si = 0; si < segments.length; si++) {
    const seg = segments[si]!;
    const first = seg.tokens[0]!;
    if (first.key === 'then') {
      if (seg.tokens.length > 1) error(seg.tokens[1]!.start, `unexpected "${seg.tokens[1]!.text}" after then=`, 'then= stands alone as the last segment');
      if (si !== segments.length - 1) error(first.start, 'then= must be the last segment', 'e.g. "429x3; 200; then=404"');
      const v = first.value ?? '';
      thenOffset = first.start;
      if (v === 'repeat-last' || v === 'cycle') then = v;
      else if (/^\d{3}$/.test(v) && Number(v) >= 200 && Number(v) <= 599) then = Number(v);
      else error(first.valueStart ?? first.start, `invalid then= value "${v}"`, 'allowed: repeat-last, cycle, or a status 200-599');
      continue;
    }
    const step: MockStep = { times: 1 };
    const fields: Partial<Record<keyof MockStep, number>> = {};
    let timesSet = false;
    const setTimes = (tok: Token, raw: string, offset: number) => {
      if (timesSet) return error(offset, 'the repeat count is given twice in this step');
      timesSet = true;
      fields.times = offset;
      if (raw === '*' || raw === 'forever') step.times = 'forever';
      else if (/^\d+$/.test(raw) && Number(raw) >= 1) step.times = Number(raw);
      else error(offset, `invalid repeat count "${raw}" in "${tok.text}"`, 'allowed: a whole number ≥ 1, or * / forever');
    };
    const setStatus = (raw: string, offset: number) => {
      if (step.status !== undefined) return error(offset, `a second status "${raw}" in one step`, 'separate steps with ";"');
      const n = Number(raw);
      if (!/^\d{3}$/.test(raw) || n < 200 || n > 599) return error(offset, `invalid status "${raw}"`, 'allowed: 200-599');
      step.status = n;
      fields.status = offset;
    };

    for (const tok of seg.tokens) {
      if (tok.key === undefined) {
        const m = /^(\d+|aoai|reset|hang|ratelimit)?(?:x(\d+|\*))?$/i.exec(tok.text);
        if (!m || (!m[1] && !m[2])) {
          error(
            tok.start,
            `unknown word "${tok.text}"`,
            `allowed: ${TEXT_FORM_WORDS}, or key=value with key one of ${TEXT_FORM_OPTIONS.join(', ')}${suggest(tok.text)}`,
          );
          continue;
        }
        const head = m[1]?.toLowerCase();
        if (head === 'aoai') {
          step.aoai ??= {};
          fields.aoai = tok.start;
        } else if (head === 'reset') {
          step.reset = true;
          fields.reset = tok.start;
        } else if (head === 'hang') {
          step.hang = true;
          fields.hang = tok.start;
        } else if (head === 'ratelimit') {
          step.rateLimitHeaders ??= {};
          fields.rateLimitHeaders = tok.start;
        } else if (head !== undefined) setStatus(head, tok.start);
        if (m[2] !== undefined) setTimes(tok, m[2], tok.start + (m[1]?.length ?? 0));
        continue;
      }
      const key = OPTION_ALIASES[tok.key] ?? tok.key;
      const value = tok.value ?? '';
      const vAt = tok.valueStart ?? tok.start;
      if (AOAI_OPTIONS.has(key)) step.aoai ??= {};
      switch (key) {
        case 'times':
          setTimes(tok, value, vAt);
          break;
        case 'status':
          setStatus(value, vAt);
          break;
        case 'retry-after': {
          const n = parseSeconds(value);
          if (n === undefined) error(vAt, `invalid retry-after "${value}"`, 'allowed: whole seconds ≥ 0, e.g. retry-after=7');
          else {
            step.retryAfter = n;
            fields.retryAfter = tok.start;
          }
          break;
        }
        case 'latency':
        case 'chunk-delay': {
          const ms = parseDuration(value);
          if (ms === undefined) error(vAt, `invalid ${key} "${value}"`, 'allowed: a duration such as 150ms, 2s, 1.5s, 1m (a bare number is milliseconds)');
          else if (key === 'latency') {
            step.latencyMs = ms;
            fields.latencyMs = tok.start;
          } else {
            step.chunkDelayMs = ms;
            fields.chunkDelayMs = tok.start;
          }
          break;
        }
        case 'stream-fail-after':
        case 'ratelimit-requests':
        case 'ratelimit-tokens':
        case 'completion-tokens': {
          const min = key === 'completion-tokens' || key === 'stream-fail-after' ? 0 : 1;
          if (!/^\d+$/.test(value) || Number(value) < min) {
            error(vAt, `invalid ${key} "${value}"`, `allowed: a whole number ≥ ${min}`);
            break;
          }
          const n = Number(value);
          if (key === 'stream-fail-after') {
            step.sseFailAfterChunks = n;
            fields.sseFailAfterChunks = tok.start;
          } else if (key === 'completion-tokens') step.aoai!.completionTokens = n;
          else {
            step.rateLimitHeaders ??= {};
            fields.rateLimitHeaders ??= tok.start;
            step.rateLimitHeaders[key === 'ratelimit-requests' ? 'requests' : 'tokens'] = n;
          }
          break;
        }
        case 'header': {
          const colon = value.indexOf(':');
          const name = colon > 0 ? value.slice(0, colon).trim() : '';
          if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
            error(vAt, `invalid header "${value}"`, 'write header=Name:value, quoted when the value has spaces: header="x-ms-region: East US"');
            break;
          }
          step.headers ??= {};
          fields.headers ??= tok.start;
          const v = value.slice(colon + 1).trim();
          const prev = step.headers[name];
          step.headers[name] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
          break;
        }
        case 'body':
          step.body = value;
          fields.body = tok.start;
          break;
        case 'json':
          try {
            step.body = JSON.parse(value) as unknown;
            fields.body = tok.start;
          } catch (e) {
            error(vAt, `json= is not valid JSON: ${(e as Error).message}`, `quote it: json='{"ok":true}'`);
          }
          break;
        case 'model':
          step.aoai!.model = value;
          fields.aoai ??= tok.start;
          break;
        case 'content':
          step.aoai!.content = value;
          fields.aoai ??= tok.start;
          break;
        case 'region':
          step.aoai!.region = value;
          fields.aoai ??= tok.start;
          break;
        case 'tpm':
        case 'rpm': {
          // tpm=N applies to every deployment; tpm=DEPLOYMENT:N to one.
          const colon = value.lastIndexOf(':');
          const name = colon >= 0 ? value.slice(0, colon) : undefined;
          const num = colon >= 0 ? value.slice(colon + 1) : value;
          if (name !== undefined && !DEPLOYMENT_NAME.test(name)) {
            error(
              vAt,
              `invalid deployment name "${name}" in ${key}=`,
              `write ${key}=N for every deployment or ${key}=DEPLOYMENT:N (letters, digits, ".", "_", "-")`,
            );
            break;
          }
          if (!/^\d+$/.test(num) || Number(num) < 1) {
            error(
              vAt + (colon >= 0 ? colon + 1 : 0),
              `invalid ${key} "${num}"`,
              `allowed: a whole number ≥ 1 (${key === 'tpm' ? 'tokens' : 'requests'} per minute), e.g. ${key}=${key === 'tpm' ? 1000 : 6} or ${key}=gpt-4o:${key === 'tpm' ? 1000 : 6}`,
            );
            break;
          }
          const quota = (step.aoai!.quota ??= {});
          const target = name === undefined ? quota : ((quota.deployments ??= {})[name] ??= {});
          if (target[key] !== undefined) {
            error(tok.start, `${key} is given twice${name !== undefined ? ` for deployment "${name}"` : ''} in this step`);
            break;
          }
          target[key] = Number(num);
          fields.aoai ??= tok.start;
          break;
        }
        case 'then':
          error(tok.start, 'then= must be a segment of its own', 'e.g. "429x3; 200; then=404"');
          break;
        default:
          error(tok.start, `unknown option "${tok.key}"`, `allowed: ${TEXT_FORM_OPTIONS.join(', ')}${suggest(tok.key)}`);
      }
    }
    steps.push(step);
    stepStarts.push(seg.start);
    fieldStarts.push(fields);
  }

  if (segments.length === 0 && diagnostics.length === 0) {
    error(0, 'empty mock script', 'e.g. "200", "aoai", "429x3 retry-after=7; 200"', 'mock/empty');
  } else if (steps.length === 0 && diagnostics.length === 0) {
    error(thenOffset, 'a mock script needs at least one step before then=', 'e.g. "429x3; then=404"', 'mock/empty');
  }
  const script: MockScript = { steps, ...(then !== undefined ? { then } : {}) };
  if (diagnostics.length === 0) {
    diagnostics.push(
      ...checkScript(
        script,
        (i, field) => at((field !== undefined ? fieldStarts[i]?.[field] : undefined) ?? stepStarts[i] ?? 0),
        () => at(thenOffset),
      ),
    );
  }
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { script, diagnostics };
}

function tokenize(text: string, error: (offset: number, message: string, hint?: string) => void): Segment[] {
  const segments: Segment[] = [];
  let tokens: Token[] = [];
  let segStart = -1;
  let i = 0;
  const endSegment = (sepAt: number) => {
    if (tokens.length) segments.push({ start: segStart, tokens });
    else if (sepAt >= 0 && text[sepAt] === ';') error(sepAt, 'empty step before ";"', 'write a step such as "200" or remove the extra ";"');
    tokens = [];
    segStart = -1;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ';' || c === '\n' || c === '\r') {
      // Newlines separate steps too (multi-line scripts in YAML); an empty line is not an error.
      if (c === ';' || tokens.length) endSegment(c === ';' ? i : -1);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === ',') {
      i++;
      continue;
    }
    const start = i;
    if (segStart < 0) segStart = start;
    let raw = '';
    let key: string | undefined;
    let value: string | undefined;
    let valueStart: number | undefined;
    while (i < text.length && !' \t;\n\r'.includes(text[i]!)) {
      const ch = text[i]!;
      if (ch === '=' && key === undefined) {
        key = raw.toLowerCase();
        raw = '';
        valueStart = i + 1;
        i++;
        if (text[i] === '"' || text[i] === "'") {
          const q = text[i]!;
          const openAt = i;
          i++;
          let v = '';
          let closed = false;
          while (i < text.length) {
            const d = text[i]!;
            if (d === '\\' && q === '"' && i + 1 < text.length) {
              const e = text[i + 1]!;
              v += e === 'n' ? '\n' : e === 't' ? '\t' : e;
              i += 2;
              continue;
            }
            if (d === q) {
              closed = true;
              i++;
              break;
            }
            v += d;
            i++;
          }
          if (!closed) error(openAt, `unterminated ${q === '"' ? 'double' : 'single'}-quoted value`, `close it with ${q}`);
          value = v;
          if (i < text.length && !' \t;\n\r'.includes(text[i]!)) {
            error(i, `unexpected "${text[i]}" right after a quoted value`, 'separate words with a space');
            while (i < text.length && !' \t;\n\r'.includes(text[i]!)) i++;
          }
          break;
        }
        continue;
      }
      raw += ch;
      i++;
    }
    if (key !== undefined) {
      value ??= raw;
      if (key === '') error(start, 'missing option name before "="', `allowed: ${TEXT_FORM_OPTIONS.join(', ')}`);
      else if (value === '' && key !== 'body' && key !== 'content') error(valueStart ?? start, `missing value after "${key}="`);
      tokens.push({ text: text.slice(start, i), start, key, value, valueStart: valueStart ?? start });
    } else tokens.push({ text: raw, start });
  }
  endSegment(-1);
  return segments;
}

function parseDuration(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000);
}

function parseSeconds(v: string): number | undefined {
  const m = /^(\d+)s?$/i.exec(v);
  return m ? Number(m[1]) : undefined;
}

function suggest(word: string): string {
  const candidates = [...TEXT_FORM_OPTIONS, 'aoai', 'reset', 'hang', 'ratelimit', 'then'];
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(w, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best ? `; did you mean "${best}"?` : '';
}

/** The text form of a script (for admin output and logs). JSON-only features (sse events) are shown as `sse=<n events>`. */
export function formatMockScript(script: MockScript): string {
  const parts = script.steps.map((s) => {
    const words: string[] = [];
    let head = s.reset ? 'reset' : s.hang ? 'hang' : s.status !== undefined ? String(s.status) : s.aoai ? 'aoai' : '200';
    if (s.times === 'forever') head += 'x*';
    else if (s.times !== 1) head += `x${s.times}`;
    words.push(head);
    if (s.hang && s.status !== undefined) words.push(`status=${s.status}`);
    if (s.aoai && head.split('x')[0] !== 'aoai') words.push('aoai');
    if (s.retryAfter !== undefined) words.push(`retry-after=${s.retryAfter}`);
    if (s.latencyMs !== undefined) words.push(`latency=${s.latencyMs}ms`);
    if (s.chunkDelayMs !== undefined) words.push(`chunk-delay=${s.chunkDelayMs}ms`);
    if (s.sseFailAfterChunks !== undefined) words.push(`stream-fail-after=${s.sseFailAfterChunks}`);
    if (s.rateLimitHeaders) {
      if (s.rateLimitHeaders.requests === undefined && s.rateLimitHeaders.tokens === undefined) words.push('ratelimit');
      if (s.rateLimitHeaders.requests !== undefined) words.push(`ratelimit-requests=${s.rateLimitHeaders.requests}`);
      if (s.rateLimitHeaders.tokens !== undefined) words.push(`ratelimit-tokens=${s.rateLimitHeaders.tokens}`);
    }
    for (const [name, v] of Object.entries(s.headers ?? {})) for (const one of Array.isArray(v) ? v : [v]) words.push(`header=${quote(`${name}:${one}`)}`);
    if (typeof s.body === 'string') words.push(`body=${quote(s.body)}`);
    else if (s.body !== undefined) words.push(`json=${quote(JSON.stringify(s.body))}`);
    if (s.sse) words.push(`sse=<${s.sse.length} events>`);
    if (s.aoai?.model !== undefined) words.push(`model=${quote(s.aoai.model)}`);
    if (s.aoai?.content !== undefined) words.push(`content=${quote(s.aoai.content)}`);
    if (s.aoai?.completionTokens !== undefined) words.push(`completion-tokens=${s.aoai.completionTokens}`);
    if (s.aoai?.region !== undefined) words.push(`region=${quote(s.aoai.region)}`);
    const q = s.aoai?.quota;
    if (q) {
      if (q.tpm !== undefined) words.push(`tpm=${q.tpm}`);
      if (q.rpm !== undefined) words.push(`rpm=${q.rpm}`);
      for (const [name, l] of Object.entries(q.deployments ?? {})) {
        if (l.tpm !== undefined) words.push(`tpm=${name}:${l.tpm}`);
        if (l.rpm !== undefined) words.push(`rpm=${name}:${l.rpm}`);
      }
    }
    return words.join(' ');
  });
  if (script.then !== undefined && script.then !== 'repeat-last') parts.push(`then=${script.then}`);
  return parts.join('; ');
}

function quote(v: string): string {
  if (v !== '' && /^[^\s;"'=]+$/.test(v)) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}
