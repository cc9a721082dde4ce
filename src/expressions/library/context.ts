/**
 * The APIM `context` object model (docs/apim-behaviour.md: The context object), mapped one to one onto GatewayContext (src/engine/context.ts):
 * IContext, IRequest, IResponse (also StoredResponse values cast from Variables), IUrl, headers, query, variables,
 * IMessageBody, IApi, IOperation, IProduct, ISubscription, IUser, IDeployment, ILastError.
 */
import { BodyConsumedError, type MessageBody } from '../../engine/body.js';
import {
  StoredResponse,
  type GatewayContext,
  type GatewayRequest,
  type GatewayResponse,
  type GraphQLFieldContext,
  type LastError,
} from '../../engine/context.js';
import type { HeaderMap } from '../../engine/headers.js';
import { RequestUrl, type QueryMap } from '../../engine/url.js';
import { DateTime, TimeSpan } from '../../dotnet/datetime.js';
import { DotNetException } from '../../dotnet/exceptions.js';
import { JArray, JObject, JToken } from '../../dotnet/json.js';
import { XML_BODY_TYPES } from './xml.js';
import { arrayOf, clrName, kvpOf, named, T, typeName, type CsType } from '../types.js';
import { KeyValuePair, runtimeTypeName } from '../runtime.js';
import { defineType, elementTypeOf, type CallSite, type Closure } from './registry.js';
import { located, method, opt, out, prop, sig } from './sig.js';
import { instanceTest } from '../conversions.js';
import { Guid } from '../../dotnet/crypto.js';
import { Uri } from '../../dotnet/text.js';
import { unboxer } from './convert.js';
import { CsDictionary } from './collections.js';

const S = T.string;
const I = T.int;
const B = T.bool;
const n = named;

// ---- context ---------------------------------------------------------------------------------------------------------
defineType({
  name: 'IContext',
  instance: {
    Request: prop(n('IRequest'), (c: GatewayContext) => c.request, undefined, true),
    Response: prop(n('IResponse'), (c: GatewayContext) => c.response, undefined, true),
    Variables: prop(n('IVariables'), (c: GatewayContext) => c.variables, undefined, true),
    Api: prop(n('IApi'), (c: GatewayContext) => c.api, undefined, true),
    Operation: prop(n('IOperation'), (c: GatewayContext) => c.operation, undefined, true),
    Product: prop(n('IProduct'), (c: GatewayContext) => c.product),
    Subscription: prop(n('ISubscription'), (c: GatewayContext) => c.subscription),
    User: prop(n('IUser'), (c: GatewayContext) => c.user),
    Deployment: prop(n('IDeployment'), (c: GatewayContext) => c.deployment, undefined, true),
    LastError: prop(n('ILastError'), (c: GatewayContext) => c.lastError),
    // Set while a GraphQL resolver runs (http-data-source); null elsewhere.
    GraphQL: prop(n('IGraphQL'), (c: GatewayContext) => c.graphql),
    RequestId: prop(T.Guid, (c: GatewayContext) => guidOf(c.requestId), undefined, true),
    Timestamp: prop(T.DateTime, (c: GatewayContext) => DateTime.fromUnixMilliseconds(c.timestamp, 'Utc'), undefined, true),
    Elapsed: prop(T.TimeSpan, (c: GatewayContext) => TimeSpan.FromMilliseconds(c.elapsedMs), undefined, true),
    Tracing: prop(B, (c: GatewayContext) => c.apimTracing),
  },
});
defineType({
  name: 'IContext',
  instance: {
    Trace: method(
      sig([S], T.void, (c: GatewayContext, m: string | null) =>
        c.trace({ kind: 'trace', message: m ?? '', source: 'context.Trace', severity: 'verbose', metadata: {} }),
      ),
    ),
  },
});

defineType({
  name: 'IGraphQL',
  instance: {
    Arguments: prop(n('JObject'), (g: GraphQLFieldContext) => g.arguments),
    Parent: prop(n('JObject'), (g: GraphQLFieldContext) => g.parent),
  },
});

/** context.RequestId is a Guid; an id that is not one (set by a test) stays a string. */
function guidOf(id: string): unknown {
  const r = Guid.TryParse(id);
  return r.ok ? r.value : id;
}

// ---- request / response -------------------------------------------------------------------------------------------
defineType({
  name: 'IRequest',
  instance: {
    Method: prop(S, (r: GatewayRequest) => r.method, undefined, true),
    Url: prop(n('IUrl'), (r: GatewayRequest) => r.url, undefined, true),
    OriginalUrl: prop(n('IUrl'), (r: GatewayRequest) => r.originalUrl, undefined, true),
    Headers: prop(n('IHeaders'), (r: GatewayRequest) => r.headers, undefined, true),
    Body: prop(n('IMessageBody'), (r: GatewayRequest) => r.body),
    IpAddress: prop(S, (r: GatewayRequest) => r.ipAddress),
    MatchedParameters: prop(n('Dictionary', S, S), (r: GatewayRequest) => dictionaryOf(r.matchedParameters), undefined, true),
    Certificate: prop(n('X509Certificate2'), () => null),
    // requests never come through a private endpoint in the emulator: null, as APIM gives for other requests
    PrivateEndpointConnection: prop(n('IPrivateEndpointConnection'), () => null),
  },
});
defineType({
  name: 'IPrivateEndpointConnection',
  instance: {
    Name: prop(S, (p: { name: string }) => p.name),
    GroupId: prop(S, (p: { groupId: string }) => p.groupId),
    MemberName: prop(S, (p: { memberName: string }) => p.memberName),
  },
});
defineType({
  name: 'X509Certificate2',
  aliases: [
    'X509Certificate',
    'System.Security.Cryptography.X509Certificates.X509Certificate2',
    'System.Security.Cryptography.X509Certificates.X509Certificate',
  ],
  instance: {
    // APIM's extension method. The emulator receives no client certificate (context.Request.Certificate is null, so a
    // call fails with NullReferenceException as it would in APIM for a request without one); chain building against
    // a trust store is not emulated, which this says plainly should a certificate ever reach it.
    VerifyNoRevocation: method(
      sig([], B, () => {
        throw new DotNetException('NotSupportedException', 'X509Certificate2.VerifyNoRevocation: X.509 chain validation is not emulated offline.');
      }),
    ),
  },
});

const isResponse = (v: unknown): boolean => v instanceof StoredResponse;
defineType({
  name: 'IResponse',
  isInstance: isResponse,
  instance: {
    StatusCode: prop(I, (r: GatewayResponse) => r.statusCode),
    StatusReason: prop(S, (r: GatewayResponse) => r.statusReason),
    Headers: prop(n('IHeaders'), (r: GatewayResponse) => r.headers, undefined, true),
    Body: prop(n('IMessageBody'), (r: GatewayResponse) => r.body),
  },
});

// ---- URL ---------------------------------------------------------------------------------------------------------------
defineType({
  name: 'IUrl',
  instance: {
    Scheme: prop(S, (u: RequestUrl) => u.scheme, undefined, true),
    Host: prop(S, (u: RequestUrl) => u.host, undefined, true),
    Port: prop(I, (u: RequestUrl) => u.port),
    Path: prop(S, (u: RequestUrl) => u.path, undefined, true),
    QueryString: prop(S, (u: RequestUrl) => u.queryString, undefined, true),
    Query: prop(n('IQuery'), (u: RequestUrl) => u.query, undefined, true),
    ToString: method(sig([], S, (u: RequestUrl) => u.toString())),
    ToUri: method(sig([], n('Uri'), (u: RequestUrl) => new Uri(u.toString()))),
  },
});

// ---- dictionaries over engine maps ------------------------------------------------------------------------------------
/** MatchedParameters as a Dictionary<string,string> (a copy: policies cannot change the route values). */
function dictionaryOf(m: Map<string, string>): CsDictionary {
  const d = new CsDictionary();
  for (const [k, v] of m) d.set(k, v);
  return d;
}

/** Headers / query / Jwt.Claims: string → string[]; GetValueOrDefault joins with ",". */
interface MultiMap {
  get(name: string): string[] | undefined;
  has(name: string): boolean;
  entries(): IterableIterator<[string, string[]]>;
  readonly size: number;
}
export function multiMapType(name: string): void {
  const self = n(name);
  defineType({
    name,
    bases: () => [n('IEnumerable', kvpOf(S, T.strings))],
    element: () => kvpOf(S, T.strings),
    iterate: (m: MultiMap) => [...m.entries()].map(([k, v]) => new KeyValuePair(k, [...v])),
    indexer: {
      type: () => T.strings,
      params: () => [S],
      get: (m: MultiMap, k: string | null) => {
        if (k === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'key')");
        const v = m.get(k);
        if (!v) throw new DotNetException('KeyNotFoundException', `The given key '${k}' was not present in the dictionary.`);
        return [...v];
      },
    },
    instance: {
      Count: prop(I, (m: MultiMap) => m.size),
      Keys: prop(n('List', S), (m: MultiMap) => [...m.entries()].map(([k]) => k)),
      Values: prop(n('List', T.strings), (m: MultiMap) => [...m.entries()].map(([, v]) => [...v])),
      ContainsKey: method(sig([S], B, (m: MultiMap, k: string | null) => k !== null && m.has(k))),
      GetValueOrDefault: method(
        sig([S], S, (m: MultiMap, k: string | null) => joinValues(m, k, null)),
        sig([S, S], S, (m: MultiMap, k: string | null, d: string | null) => joinValues(m, k, d)),
        sig([S, T.strings], T.strings, (m: MultiMap, k: string | null, d: string[] | null) => (k !== null ? (m.get(k) ? [...m.get(k)!] : d) : d)),
      ),
      TryGetValue: method(
        sig([S, out(T.strings)], B, (m: MultiMap, k: string | null, set: (v: unknown) => void) => {
          const v = k === null ? undefined : m.get(k);
          set(v ? [...v] : null);
          return v !== undefined;
        }),
      ),
    },
  });
  void self;
}
function joinValues(m: MultiMap, k: string | null, d: string | null): string | null {
  if (k === null) return d;
  const v = m.get(k);
  return v ? v.join(',') : d;
}
multiMapType('IHeaders');
multiMapType('IQuery');
export type { HeaderMap, QueryMap };

// ---- variables -----------------------------------------------------------------------------------------------------------
const VarsT = n('IVariables');
defineType({
  name: 'IVariables',
  bases: () => [n('IEnumerable', kvpOf(S, T.object))],
  element: () => kvpOf(S, T.object),
  iterate: (m: Map<string, unknown>) => [...m.entries()].map(([k, v]) => new KeyValuePair(k, v)),
  indexer: {
    type: () => T.object,
    params: () => [S],
    get: (m: Map<string, unknown>, k: string | null) => {
      if (k === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'key')");
      if (!m.has(k)) throw new DotNetException('KeyNotFoundException', `The given key '${k}' was not present in the dictionary.`);
      return m.get(k);
    },
  },
  instance: {
    Count: prop(I, (m: Map<string, unknown>) => m.size),
    Keys: prop(n('List', S), (m: Map<string, unknown>) => [...m.keys()]),
    ContainsKey: method(sig([S], B, (m: Map<string, unknown>, k: string | null) => k !== null && m.has(k))),
    TryGetValue: method(
      sig([S, out(T.object)], B, (m: Map<string, unknown>, k: string | null, set: (v: unknown) => void) => {
        const has = k !== null && m.has(k);
        set(has ? m.get(k!) : null);
        return has;
      }),
    ),
    GetValueOrDefault: { kind: 'method', bind: bindVariablesGet },
  },
});
void VarsT;

/**
 * `GetValueOrDefault(name)` → object; `GetValueOrDefault(name, default)` → T inferred from the default (object
 * for null); `GetValueOrDefault<T>(name[, default])`: missing → default(T); present with another type →
 * InvalidCastException (docs/apim-behaviour.md: The context object).
 */
function bindVariablesGet(site: CallSite): { type: CsType; c: Closure } | null {
  const b = site.b;
  const args = site.args;
  if (args.length < 1 || args.length > 2 || args.some((a) => a.modifier)) return null;
  const name = b.convert(b.compile(args[0]!.value), S);
  let t: CsType;
  let def: Closure | null = null;
  const explicitT = site.typeArgs?.[0];
  if (site.typeArgs && site.typeArgs.length !== 1) return null;
  if (args.length === 2) {
    const d = b.compile(args[1]!.value, explicitT);
    t = explicitT ?? (d.type.name === 'null' ? T.object : d.type);
    def = b.convert(d, t);
  } else t = explicitT ?? T.object;
  const test = instanceTest(t);
  const unbox = unboxer(t) ?? ((v: unknown) => v);
  const clr = clrName(t);
  const target = t;
  const dv = defaultFor(t);
  const rc = site.recv!.c;
  const pos = site.pos;
  return {
    type: t,
    c: (ctx, f) => {
      const m = rc(ctx, f) as Map<string, unknown>;
      const k = name(ctx, f) as string | null;
      if (k === null || !m.has(k)) return def ? def(ctx, f) : dv;
      const v = m.get(k);
      if (target.name === 'object') return v;
      if (v === null || v === undefined) return def ? def(ctx, f) : dv;
      if (!test(v)) {
        const e = new DotNetException('InvalidCastException', `Unable to cast object of type '${runtimeTypeName(v)}' to type '${clr}'.`);
        (e as { csPos?: number }).csPos = pos;
        throw e;
      }
      return unbox(v);
    },
  };
}

function defaultFor(t: CsType): unknown {
  if (['int', 'long', 'double', 'decimal', 'float', 'short', 'byte'].includes(t.name)) return 0;
  if (t.name === 'bool') return false;
  if (t.name === 'DateTime') return DateTime.MinValue;
  if (t.name === 'TimeSpan') return TimeSpan.Zero;
  return null;
}

// ---- message body --------------------------------------------------------------------------------------------------------
defineType({
  name: 'IMessageBody',
  instance: {
    As: { kind: 'method', bind: bindBodyAs },
    AsFormUrlEncodedContent: method(
      sig([opt(B, false, 'preserveContent')], n('Dictionary', S, n('List', S)), (body: MessageBody, p: boolean) =>
        formContent(readBody(body, p).toString('utf8')),
      ),
    ),
  },
});

function readBody(body: MessageBody, preserve: boolean): Buffer {
  try {
    return body.read(preserve);
  } catch (e) {
    if (e instanceof BodyConsumedError) throw new DotNetException('InvalidOperationException', e.message);
    throw e;
  }
}

// IMessageBody.As<T>: T ∈ string, byte[], JObject, JToken, JArray, XNode, XElement, XDocument (Microsoft's "policy
// expressions" page, IMessageBody)
const BODY_TYPES = new Set(['string', 'JObject', 'JToken', 'JArray', 'Array', ...Object.keys(XML_BODY_TYPES)]);
function bindBodyAs(site: CallSite): { type: CsType; c: Closure } | null {
  const t = site.typeArgs?.[0];
  if (!t || site.typeArgs!.length !== 1) site.b.error(site.pos, 'Body.As needs a type argument, e.g. As<string>() or As<JObject>()');
  if (!BODY_TYPES.has(t.name) || (t.name === 'Array' && t.args[0]!.name !== 'byte')) {
    site.b.error(
      site.pos,
      `Body.As<${typeName(t)}>() is not available in APIM policy expressions`,
      'allowed: string, byte[], JObject, JToken, JArray, XNode, XElement, XDocument',
    );
  }
  const xml = Object.hasOwn(XML_BODY_TYPES, t.name) ? XML_BODY_TYPES[t.name]! : null;
  const bind = method(
    sig([opt(B, false, 'preserveContent')], t, (body: MessageBody, p: boolean) => {
      const buf = readBody(body, p);
      switch (t.name) {
        case 'string':
          return buf.toString('utf8');
        case 'Array':
          return new Uint8Array(buf);
        case 'JObject':
          return JObject.Parse(buf.toString('utf8'));
        case 'JArray':
          return JArray.Parse(buf.toString('utf8'));
        default:
          if (xml) return xml(buf.toString('utf8'));
          return JToken.Parse(buf.toString('utf8'));
      }
    }),
  ).bind;
  return bind({ ...site, typeArgs: null });
}

/**
 * APIM's ToFormUrlEncodedContent() on a sequence of KeyValuePair<string, string> or <string, IList<string>> (what
 * AsFormUrlEncodedContent returns): the application/x-www-form-urlencoded text, as .NET's FormUrlEncodedContent
 * encodes it (Uri.EscapeDataString with %20 written as '+'); a list value repeats its key.
 */
function bindToFormUrlEncoded(site: CallSite): { type: CsType; c: Closure } | null {
  const src = site.recv;
  const en = src ? elementTypeOf(src.type) : undefined;
  if (!src || !en || site.args.length !== 0 || en.elem.name !== 'KeyValuePair' || en.elem.args[0]!.name !== 'string') return null;
  const valueT = en.elem.args[1]!;
  const listValued = valueT.name !== 'string';
  if (listValued && !elementTypeOf(valueT)) return null;
  const c = src.c;
  const iterate = en.iterate;
  const pos = site.pos;
  return {
    type: S,
    c: (ctx, f) => {
      const v = c(ctx, f);
      if (v === null || v === undefined) throw located(new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'source')"), pos);
      const parts: string[] = [];
      for (const kv of iterate(v) as Iterable<KeyValuePair>) {
        const values = listValued ? [...((kv.Value as Iterable<unknown> | null) ?? [])] : [kv.Value];
        for (const x of values) parts.push(`${formEncode(kv.Key as string)}=${formEncode(x as string)}`);
      }
      return parts.join('&');
    },
  };
}
function formEncode(s: string | null): string {
  // Uri.EscapeDataString leaves A-Z a-z 0-9 - . _ ~ as they are; FormUrlEncodedContent then turns %20 into '+'
  return encodeURIComponent(s ?? '')
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
defineType({ name: 'IEnumerable', instance: { ToFormUrlEncodedContent: { kind: 'method', bind: bindToFormUrlEncoded } } });

/** APIM's AsFormUrlEncodedContent: a Dictionary<string, IList<string>> in the body's key order. */
function formContent(text: string): CsDictionary {
  const d = new CsDictionary();
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    const cur = d.map.get(d.key(k));
    if (cur) (cur[1] as string[]).push(v);
    else d.set(k, [v]);
  }
  return d;
}

// ---- API, operation, product, subscription, user, deployment, last error ----------------------------------------------
defineType({
  name: 'IApi',
  instance: {
    Id: prop(S, (a: GatewayContext['api']) => a.id),
    Name: prop(S, (a: GatewayContext['api']) => a.name),
    Path: prop(S, (a: GatewayContext['api']) => a.path),
    Revision: prop(S, (a: GatewayContext['api']) => a.revision),
    IsCurrentRevision: prop(B, (a: GatewayContext['api']) => a.isCurrentRevision),
    Version: prop(S, (a: GatewayContext['api']) => a.version),
    ServiceUrl: prop(n('IUrl'), (a: GatewayContext['api']) => (a.serviceUrl ? parseUrl(a.serviceUrl) : null)),
    Protocols: prop(T.strings, (a: GatewayContext['api']) => [...a.protocols]),
    SubscriptionKeyParameterNames: prop(n('ISubscriptionKeyParameterNames'), (a: GatewayContext['api']) => a.subscriptionKeyParameterNames),
  },
});
function parseUrl(s: string): RequestUrl | null {
  try {
    return RequestUrl.parse(s);
  } catch {
    return null;
  }
}
defineType({
  name: 'ISubscriptionKeyParameterNames',
  instance: { Header: prop(S, (o: { header: string }) => o.header), Query: prop(S, (o: { query: string }) => o.query) },
});
defineType({
  name: 'IOperation',
  instance: {
    Id: prop(S, (o: GatewayContext['operation']) => o.id),
    Name: prop(S, (o: GatewayContext['operation']) => o.name),
    Method: prop(S, (o: GatewayContext['operation']) => o.method),
    UrlTemplate: prop(S, (o: GatewayContext['operation']) => o.urlTemplate),
  },
});
type Product = NonNullable<GatewayContext['product']>;
defineType({
  name: 'IProduct',
  instance: {
    Id: prop(S, (p: Product) => p.id),
    Name: prop(S, (p: Product) => p.name),
    State: prop(S, (p: Product) => p.state),
    SubscriptionRequired: prop(B, (p: Product) => p.subscriptionRequired),
    ApprovalRequired: prop(B, (p: Product) => p.approvalRequired),
    SubscriptionLimit: prop(n('Nullable', I), (p: Product) => p.subscriptionLimit),
    Groups: prop(arrayOf(n('IGroup')), (p: Product) => [...p.groups]),
    Apis: prop(arrayOf(n('IApi')), (p: Product) => p.apis.map((a) => ({ ...a }))),
  },
});
defineType({ name: 'IGroup', instance: { Id: prop(S, (g: { id: string }) => g.id), Name: prop(S, (g: { name: string }) => g.name) } });
type Subscription = NonNullable<GatewayContext['subscription']>;
const dt = (ms: number | null): unknown => (ms === null ? null : DateTime.fromUnixMilliseconds(ms, 'Utc'));
defineType({
  name: 'ISubscription',
  instance: {
    Id: prop(S, (s: Subscription) => s.id),
    Name: prop(S, (s: Subscription) => s.name),
    Key: prop(S, (s: Subscription) => s.key),
    PrimaryKey: prop(S, (s: Subscription) => s.primaryKey),
    SecondaryKey: prop(S, (s: Subscription) => s.secondaryKey),
    CreatedDate: prop(T.DateTime, (s: Subscription) => dt(s.createdDate)),
    StartDate: prop(n('Nullable', T.DateTime), (s: Subscription) => dt(s.startDate)),
    EndDate: prop(n('Nullable', T.DateTime), (s: Subscription) => dt(s.endDate)),
  },
});
type User = NonNullable<GatewayContext['user']>;
defineType({
  name: 'IUser',
  instance: {
    Id: prop(S, (u: User) => u.id),
    Email: prop(S, (u: User) => u.email),
    FirstName: prop(S, (u: User) => u.firstName),
    LastName: prop(S, (u: User) => u.lastName),
    Note: prop(S, (u: User) => u.note),
    RegistrationDate: prop(T.DateTime, (u: User) => dt(u.registrationDate)),
    Groups: prop(arrayOf(n('IGroup')), (u: User) => [...u.groups]),
    Identities: prop(arrayOf(n('IUserIdentity')), (u: User) => [...u.identities]),
  },
});
defineType({ name: 'IUserIdentity', instance: { Id: prop(S, (g: { id: string }) => g.id), Provider: prop(S, (g: { provider: string }) => g.provider) } });
defineType({
  name: 'IDeployment',
  instance: {
    GatewayId: prop(S, (d: GatewayContext['deployment']) => d.gatewayId),
    Region: prop(S, (d: GatewayContext['deployment']) => d.region),
    ServiceName: prop(S, (d: GatewayContext['deployment']) => d.serviceName),
    ServiceId: prop(S, (d: GatewayContext['deployment']) => d.serviceId),
    Gateway: prop(n('IGateway'), (d: GatewayContext['deployment']) => d, undefined, true),
    // the service's uploaded certificates by thumbprint; the emulator is given none, so the dictionary is empty
    Certificates: prop(n('Dictionary', S, n('X509Certificate2')), () => new CsDictionary(), undefined, true),
  },
});
defineType({
  name: 'IGateway',
  instance: {
    Id: prop(S, (d: GatewayContext['deployment']) => d.gatewayId),
    IsManaged: prop(B, (d: GatewayContext['deployment']) => d.gatewayId === 'managed'),
  },
});
defineType({
  name: 'ILastError',
  instance: {
    Source: prop(S, (e: LastError) => e.source),
    Reason: prop(S, (e: LastError) => e.reason),
    Message: prop(S, (e: LastError) => e.message),
    Scope: prop(S, (e: LastError) => e.scope),
    Section: prop(S, (e: LastError) => e.section),
    Path: prop(S, (e: LastError) => e.path),
    PolicyId: prop(S, (e: LastError) => e.policyId),
  },
});

/** `get-authorization-context` result (credential manager): the variable holds { accessToken, claims }. */
defineType({
  name: 'Authorization',
  isInstance: (v) => typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'authorization',
  instance: {
    AccessToken: prop(S, (a: { accessToken: string }) => a.accessToken),
  },
});
