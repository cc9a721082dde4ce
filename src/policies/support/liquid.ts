import type { Drop, FilterImplOptions, Liquid, Template } from 'liquidjs';
import type { DiagnosticBag, GatewayContext, GatewayRequest, GatewayResponse, HeaderMap, NamedValue, TextSpan } from '../../engine/policy-sdk.js';
import { DateTime } from '../../dotnet/datetime.js';
import { editDistance, lazyLibrary } from '../../engine/policy-sdk.js';
import { isJsonType, isXmlType } from './body-conversion.js';
import { fastXmlParser, xmlToJson } from './convert.js';

// liquidjs (~170 ms to import) loads when a Liquid template is first compiled, not at start-up (src/lazy-library.ts).
const liquidjs = lazyLibrary<typeof import('liquidjs')>('liquidjs');

/**
 * Liquid for `set-body template="liquid"`: APIM runs DotLiquid in C# naming mode (docs/emulator-choices.md, "Liquid
 * templates"). On liquidjs, adapted:
 * - filters are DotLiquid's, PascalCase (`Upcase`, `AtLeast`, `DividedBy`...); any other name, including liquidjs's
 *   snake_case ones, is a load-time error at the template's position;
 * - `Date` takes .NET format strings (`yyyy-MM-ddTHH:mm:ss`), `Default` replaces null, empty and false;
 * - `context` exposes C# member names (`context.Request.Headers`, `context.Variables`, `context.User.Email`...);
 *   dictionaries are read by key (headers case-insensitively) and iterate as `Key`/`Value` pairs;
 * - `body` is the message body parsed as JSON or XML when its Content-Type says so (xsi-nil and parse-date apply).
 * Templates are parsed once at load; rendering is synchronous.
 */

/** DotLiquid's standard filters (C# naming) → the liquidjs filter that does the same. */
const DOTLIQUID_FILTERS: Record<string, string> = {
  Size: 'size',
  Downcase: 'downcase',
  Upcase: 'upcase',
  Capitalize: 'capitalize',
  Escape: 'escape',
  EscapeOnce: 'escape_once',
  H: 'escape',
  Truncate: 'truncate',
  TruncateWords: 'truncatewords',
  Split: 'split',
  StripHtml: 'strip_html',
  Strip: 'strip',
  Lstrip: 'lstrip',
  Rstrip: 'rstrip',
  StripNewlines: 'strip_newlines',
  Join: 'join',
  Sort: 'sort',
  SortNatural: 'sort_natural',
  Map: 'map',
  Replace: 'replace',
  ReplaceFirst: 'replace_first',
  Remove: 'remove',
  RemoveFirst: 'remove_first',
  Append: 'append',
  Prepend: 'prepend',
  NewlineToBr: 'newline_to_br',
  First: 'first',
  Last: 'last',
  Plus: 'plus',
  Minus: 'minus',
  Times: 'times',
  Round: 'round',
  Ceil: 'ceil',
  Floor: 'floor',
  Modulo: 'modulo',
  Uniq: 'uniq',
  Abs: 'abs',
  AtLeast: 'at_least',
  AtMost: 'at_most',
  Compact: 'compact',
  Reverse: 'reverse',
  Slice: 'slice',
  UrlEncode: 'url_encode',
  UrlDecode: 'url_decode',
  Where: 'where',
  Concat: 'concat',
};

export const LIQUID_FILTER_NAMES: readonly string[] = [...Object.keys(DOTLIQUID_FILTERS), 'Date', 'Default', 'DividedBy'].sort();

/** Clock of the render in progress (Date: "now"); renders are synchronous, so one slot is enough. */
let renderNow = 0;

function createEngine(): Liquid {
  const engine = new (liquidjs().Liquid)({ strictFilters: true, strictVariables: false, jsTruthy: false, greedy: false });
  const builtins = { ...engine.filters } as Record<string, unknown>;
  for (const k of Object.keys(engine.filters)) delete (engine.filters as Record<string, unknown>)[k];
  for (const [pascal, snake] of Object.entries(DOTLIQUID_FILTERS)) engine.registerFilter(pascal, builtins[snake] as FilterImplOptions);
  engine.registerFilter('Default', (v: unknown, fallback: unknown) => (v === null || v === undefined || v === '' || v === false ? fallback : v));
  // Integer ÷ integer is integer division (truncated), as in DotLiquid; any decimal makes it a decimal division.
  engine.registerFilter('DividedBy', (v: unknown, d: unknown) => {
    const a = Number(v);
    const b = Number(d);
    return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
  });
  engine.registerFilter('Date', (v: unknown, format?: unknown) => formatDate(v, typeof format === 'string' ? format : undefined));
  return engine;
}

let liquidEngine: Liquid | undefined;
const engine = (): Liquid => (liquidEngine ??= createEngine());

function formatDate(v: unknown, format: string | undefined): unknown {
  let dt: DateTime | undefined;
  if (v instanceof DateTime) dt = v;
  else if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'now' || t === 'today') dt = DateTime.UtcNow(renderNow);
    else {
      const r = DateTime.TryParse(v);
      if (r.ok) dt = r.value;
    }
  } else if (typeof v === 'number') dt = DateTime.fromUnixMilliseconds(v * 1000);
  if (!dt) return v; // DotLiquid returns the input when it is not a date
  return dt.toDotNetString(format || undefined);
}

type Entries = ReadonlyArray<readonly [string, unknown]>;
let dictionaryClass: (new (entries: Entries, caseInsensitive: boolean) => Drop) | undefined;

/** A .NET dictionary as Liquid sees it: members by key, iteration as Key/Value (a liquidjs Drop, made once loaded). */
function dictionary(entries: Entries, caseInsensitive: boolean): Drop {
  dictionaryClass ??= class LiquidDictionary extends liquidjs().Drop {
    constructor(
      private readonly entries: Entries,
      private readonly caseInsensitive: boolean,
    ) {
      super();
    }
    override liquidMethodMissing(key: string): unknown {
      const k = this.caseInsensitive ? key.toLowerCase() : key;
      for (const [n, v] of this.entries) if ((this.caseInsensitive ? n.toLowerCase() : n) === k) return v;
      return undefined;
    }
    *[Symbol.iterator](): IterableIterator<{ Key: string; Value: unknown }> {
      for (const [Key, Value] of this.entries) yield { Key, Value };
    }
    get Count(): number {
      return this.entries.length;
    }
  };
  return new dictionaryClass(entries, caseInsensitive);
}

function headers(h: HeaderMap): Drop {
  return dictionary(
    [...h.entries()].map(([n, v]) => [n, v.join(',')] as const),
    true,
  );
}

export interface LiquidBodyOptions {
  /** xsi-nil: elements marked xsi:nil="true" become "" (blank) or null. */
  xsiNil: 'blank' | 'null';
  /** parse-date: ISO dates in JSON or XML become .NET DateTime values (rendered as .NET does); false copies them. */
  parseDate: boolean;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

function withDates(v: unknown): unknown {
  if (typeof v === 'string' && ISO_DATE.test(v)) {
    const r = DateTime.TryParse(v);
    return r.ok ? r.value : v;
  }
  if (Array.isArray(v)) return v.map(withDates);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withDates(x)]));
  return v;
}

/** XML bound as objects: prefixes dropped, attributes as members, xsi:nil per the policy's xsi-nil. */
function xmlBody(text: string, xsiNil: 'blank' | 'null'): unknown {
  const json = xmlToJson(text, { kind: 'javascript-friendly', alwaysArrayChildElements: false });
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const nilKey = Object.keys(o).find((k) => k.endsWith(':nil') || k === 'nil');
      if (nilKey && String(o[nilKey]).toLowerCase() === 'true') return xsiNil === 'null' ? null : '';
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) {
        if (k.startsWith('xmlns')) continue;
        out[k.includes(':') ? k.slice(k.indexOf(':') + 1) : k] = clean(x);
      }
      return out;
    }
    return v;
  };
  return clean(json);
}

/** The message body as `body`: JSON or XML by Content-Type, else the text. Unreadable bodies bind as their text. */
export function bindBody(msg: GatewayRequest | GatewayResponse | null, o: LiquidBodyOptions): unknown {
  const buf = msg?.body?.peek();
  if (!msg || !buf || buf.length === 0) return '';
  const text = buf.toString('utf8');
  const type = msg.headers.getJoined('Content-Type');
  try {
    if (isJsonType(type)) {
      const v = JSON.parse(text) as unknown;
      return o.parseDate ? withDates(v) : v;
    }
    if (isXmlType(type)) {
      // parse-date applies to XML bodies too: element and attribute texts that are ISO dates become DateTimes.
      const x = xmlBody(text, o.xsiNil);
      return o.parseDate ? withDates(x) : x;
    }
  } catch {
    return text;
  }
  return text;
}

/** `context` with C# member names, built for one render. */
export function liquidContext(ctx: GatewayContext): Record<string, unknown> {
  const r = ctx.request;
  const url = (u: typeof r.url) => ({
    Scheme: u.scheme,
    Host: u.host,
    Port: u.port,
    Path: u.path,
    QueryString: u.queryString,
    Query: dictionary(
      [...u.query.entries()].map(([n, v]) => [n, v.join(',')] as const),
      true,
    ),
  });
  const user = ctx.user;
  return {
    RequestId: ctx.requestId,
    Timestamp: DateTime.fromUnixMilliseconds(ctx.timestamp),
    Request: {
      Method: r.method,
      Url: url(r.url),
      OriginalUrl: url(r.originalUrl),
      Headers: headers(r.headers),
      IpAddress: r.ipAddress,
      MatchedParameters: dictionary([...r.matchedParameters.entries()], true),
    },
    Response: { StatusCode: ctx.response.statusCode, StatusReason: ctx.response.statusReason, Headers: headers(ctx.response.headers) },
    Variables: dictionary([...ctx.variables.entries()], false),
    Api: { Id: ctx.api.id, Name: ctx.api.name, Path: ctx.api.path, Version: ctx.api.version, Revision: ctx.api.revision },
    Operation: { Id: ctx.operation.id, Name: ctx.operation.name, Method: ctx.operation.method, UrlTemplate: ctx.operation.urlTemplate },
    Product: ctx.product ? { Id: ctx.product.id, Name: ctx.product.name } : null,
    Subscription: ctx.subscription ? { Id: ctx.subscription.id, Name: ctx.subscription.name, Key: ctx.subscription.key } : null,
    User: user ? { Id: user.id, Email: user.email, FirstName: user.firstName, LastName: user.lastName } : null,
    Deployment: { Region: ctx.deployment.region, ServiceName: ctx.deployment.serviceName, GatewayId: ctx.deployment.gatewayId },
    LastError: ctx.lastError
      ? {
          Source: ctx.lastError.source,
          Reason: ctx.lastError.reason,
          Message: ctx.lastError.message,
          Scope: ctx.lastError.scope,
          Section: ctx.lastError.section,
          Path: ctx.lastError.path,
          PolicyId: ctx.lastError.policyId,
        }
      : null,
  };
}

export type LiquidRender = (ctx: GatewayContext, body: unknown) => string;

/**
 * Parses a template once. Named values are substituted first, as APIM does, but only names that are defined: the
 * rest of `{{ ... }}` is Liquid output. Errors (unknown filter, bad syntax) are reported at their position in the file.
 */
export function compileLiquid(span: TextSpan, namedValues: ReadonlyMap<string, NamedValue>, diagnostics: DiagnosticBag): LiquidRender | undefined {
  fastXmlParser(); // XML bodies bind through it at request time: load it with the template
  const text = jsonArrayFor(span.text.replace(/\{\{([^{}]+)\}\}/g, (m: string, name: string) => namedValues.get(name.trim().toLowerCase())?.value ?? m));
  let template: Template[];
  try {
    template = engine().parse(text);
  } catch (e) {
    const err = e as { message?: string; token?: { getPosition(): [number, number] } };
    const [line, col] = err.token?.getPosition() ?? [1, 1];
    const lines = text.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
    const message = (err.message ?? String(e)).replace(/, line:\d+, col:\d+$/, '');
    const unknown = /^undefined filter: (\S+)/.exec(message)?.[1];
    const hint = unknown ? filterHint(unknown) : 'see https://shopify.github.io/liquid/ for the syntax; filters are PascalCase (DotLiquid C# naming)';
    diagnostics.error(
      span.source,
      span.sourceOffset(Math.min(offset + col - 1, text.length)),
      'policy/liquid',
      `Liquid template: ${unknown ? `unknown filter "${unknown}"` : message}`,
      hint,
    );
    return undefined;
  }
  return (ctx, body) => {
    renderNow = ctx.clock.now();
    return String(engine().renderSync(template, { context: liquidContext(ctx), body }));
  };
}

/**
 * APIM's `{% JSONArrayFor x in xs %}...{% endJSONArrayFor %}` (http-data-source page: a JSON array of the loop's
 * items) is a `for` loop with a comma between iterations. Rewritten before parsing; lines are kept, so an error
 * after it on the same line may be reported a few columns off.
 */
function jsonArrayFor(text: string): string {
  if (!text.includes('JSONArrayFor')) return text;
  return text
    .replace(/\{%(-?)\s*JSONArrayFor\s+([^%]*?)\s*(-?)%\}/g, '{%$1 for $2 $3%}')
    .replace(/\{%(-?)\s*endJSONArrayFor\s*(-?)%\}/g, '{%$1 unless forloop.last %},{% endunless %}{% endfor $2%}');
}

function filterHint(name: string): string {
  const pascal = name
    .split('_')
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join('');
  const near = LIQUID_FILTER_NAMES.filter((f) => f.toLowerCase() === pascal.toLowerCase() || editDistance(f.toLowerCase(), name.toLowerCase()) <= 2);
  return near.length
    ? `did you mean ${near.join(' or ')}? (APIM's Liquid uses DotLiquid's PascalCase filter names)`
    : `filters: ${LIQUID_FILTER_NAMES.join(', ')}`;
}
