import type { ErrorObject } from 'ajv';
import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { SourceText } from '../diagnostics/source.js';
import { parseIsoDuration } from './duration.js';
import { type JsonNode, member, pathJoin, resolvePointer, toPlain } from '../source/json.js';
import { NEWEST_LEVEL, featureSince, levelHas, validateProperties } from './schema.js';
import type { BackendCredentials, BackendDefinition, BackendPoolMember, CircuitBreakerRule } from './types.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/**
 * Per-backend checks (JSON Schema for the api-version, then the semantic checks ARM/APIM apply that a schema cannot
 * express) and normalization into a BackendDefinition. Cross-backend checks (members exist, nesting, duplicates) are
 * in load.ts.
 */

export const MAX_POOL_MEMBERS = 30;

/**
 * Error reasons the emulator can raise into a breaker (docs/apim-behaviour.md: Errors and LastError reasons, the ones a forward-request attempt can end with),
 * plus the docs' own sample label "Server errors". Others are accepted by ARM as free text but can never match.
 */
export const KNOWN_ERROR_REASONS = [
  'BackendConnectionFailure',
  'Timeout',
  'ClientConnectionFailure',
  'ExpressionValueEvaluationFailure',
  'OperationNotFound',
  'SubscriptionKeyNotFound',
  'SubscriptionKeyInvalid',
  'Server errors',
];

/** Rule shapes people hand-write that ARM does not have (seen in public Bicep); named so the error can say what to write. */
const INVENTED_KEYS = new Set(['tripcondition', 'retrycondition', 'tripconditions', 'failurethreshold', 'breakduration', 'threshold']);

const INTEGER_KEYS = new Set(['count', 'percentage', 'min', 'max', 'priority', 'weight', 'statusCode', 'maxPartitionResolutionRetries']);
const BOOLEAN_KEYS = new Set(['acceptRetryAfter', 'validateCertificateChain', 'validateCertificateName']);

/** ARM treats null as absent and coerces numeric/boolean strings; do both so the schema sees what ARM sees. */
export function prepareProperties(node: JsonNode, key?: string): JsonNode {
  if (node.kind === 'object') {
    return {
      kind: 'object',
      offset: node.offset,
      entries: node.entries
        .filter((e) => e.value.kind !== 'null' || e.key === 'priority' || e.key === 'weight' || e.key === 'url' || e.key === 'protocol' || e.key === 'title')
        .map((e) => ({ key: e.key, keyOffset: e.keyOffset, value: prepareProperties(e.value, e.key) })),
    };
  }
  if (node.kind === 'array') return { kind: 'array', offset: node.offset, items: node.items.map((n) => prepareProperties(n)) };
  // The 2023-09-01-preview template reference renders errorReasons as one string; every other version has string[].
  if (node.kind === 'string' && key === 'errorReasons') return { kind: 'array', offset: node.offset, items: [node] };
  if (node.kind === 'string' && key !== undefined) {
    const s = node.value.trim();
    if (INTEGER_KEYS.has(key) && /^-?\d+$/.test(s)) return { kind: 'number', offset: node.offset, value: Number(s) };
    if (BOOLEAN_KEYS.has(key) && /^(true|false)$/i.test(s)) return { kind: 'boolean', offset: node.offset, value: s.toLowerCase() === 'true' };
  }
  return node;
}

export interface BackendCandidate {
  source: SourceText;
  /** The backend id (name's last segment). */
  id: string;
  apiVersion?: string;
  level: string;
  /** The prepared (evaluated, coerced) `properties` node. */
  properties: JsonNode;
  /** JSON path of the resource, e.g. `$.backends[2]`. */
  path: string;
  /** Offset of the resource object. */
  offset: number;
}

export interface CheckedBackend {
  candidate: BackendCandidate;
  type: 'Single' | 'Pool';
  def: BackendDefinition | undefined;
  /** Pool member references with their positions, for cross-backend checks. */
  memberRefs: Array<{ backendId: string; offset: number; path: string }>;
  hasErrors: boolean;
}

class Reporter {
  hasErrors = false;
  constructor(
    private readonly out: Diagnostic[],
    private readonly c: BackendCandidate,
  ) {}

  /** `sub` is the JSON path suffix below `properties` (e.g. `.circuitBreaker.rules[0]`). */
  add(severity: Severity, code: DiagnosticCode, message: string, offset: number, sub: string, hint?: string): void {
    if (severity === 'error') this.hasErrors = true;
    const { line, column } = this.c.source.positionAt(offset);
    this.out.push({
      severity,
      code,
      message: `backend '${this.c.id}': ${message}`,
      ...(hint ? { hint } : {}),
      file: this.c.source.file,
      line,
      column,
      jsonPath: `${this.c.path}.properties${sub}`,
    });
  }
}

export function checkBackend(c: BackendCandidate, diagnostics: Diagnostic[], namedValues: Map<string, string> | undefined): CheckedBackend {
  const r = new Reporter(diagnostics, c);
  const p = c.properties;
  const version = c.apiVersion ? `api-version ${c.apiVersion}` : `the newest api-version (${NEWEST_LEVEL}; the input has no apiVersion)`;

  // Invented rule shapes first: a precise "write this instead" beats a generic unknown-property error.
  const suppressed = new Set<string>();
  const cb = member(p, 'circuitBreaker');
  const ruleNodes = member(cb, 'rules');
  const invented = (obj: JsonNode | undefined, pointer: string, sub: string) => {
    if (obj?.kind !== 'object') return;
    for (const e of obj.entries) {
      if (!INVENTED_KEYS.has(e.key.toLowerCase())) continue;
      suppressed.add(`${pointer}|${e.key}`);
      r.add(
        'error',
        'backend/invented-shape',
        `'${e.key}' is not part of the ARM circuit breaker shape (it is a hand-invented variant; Azure rejects it)`,
        e.keyOffset,
        `${sub}.${e.key}`,
        'write rules: [{ name, failureCondition: { count | percentage, interval, statusCodeRanges: [{min, max}], errorReasons }, tripDuration, acceptRetryAfter }]',
      );
    }
  };
  invented(cb, '/circuitBreaker', '.circuitBreaker');
  if (ruleNodes?.kind === 'array') ruleNodes.items.forEach((n, i) => invented(n, `/circuitBreaker/rules/${i}`, `.circuitBreaker.rules[${i}]`));

  const plain = toPlain(p);
  for (const e of validateProperties(c.level, plain)) reportSchemaError(r, p, e, version, c.level, suppressed);

  const props = (plain && typeof plain === 'object' && !Array.isArray(plain) ? plain : {}) as Record<string, unknown>;
  const typeNode = member(p, 'type');
  const type: 'Single' | 'Pool' = props.type === 'Pool' ? 'Pool' : 'Single';
  const poolNode = member(p, 'pool');
  const memberRefs: CheckedBackend['memberRefs'] = [];
  const members: BackendPoolMember[] = [];

  if (type === 'Pool') {
    for (const key of ['url', 'protocol']) {
      const e = p.kind === 'object' ? p.entries.find((x) => x.key === key && x.value.kind !== 'null') : undefined;
      if (e) {
        r.add(
          'error',
          'backend/pool-url',
          `a Pool backend must not set '${key}'; Azure fails the deployment ("Url is not supported for backend pool")`,
          e.keyOffset,
          `.${key}`,
          `remove '${key}' from the pool; each member backend carries its own url`,
        );
      }
    }
    if (p.kind === 'object') {
      for (const e of p.entries) {
        if (e.key === 'circuitBreaker' || e.key === 'credentials' || e.key === 'proxy' || e.key === 'tls') {
          r.add(
            'warning',
            'backend/pool-property-ignored',
            `'${e.key}' on a Pool backend is ignored: requests go to the members, which carry their own ${e.key}`,
            e.keyOffset,
            `.${e.key}`,
            `move '${e.key}' to the member backends`,
          );
        }
      }
    }
    if (!poolNode) {
      r.add(
        'error',
        'backend/pool-missing',
        "type is 'Pool' but there is no 'pool' object",
        typeNode?.offset ?? p.offset,
        '.type',
        'add pool: { services: [{ id: "/backends/<name>" }] }',
      );
    }
    const services = member(poolNode, 'services');
    if (services?.kind === 'array') {
      if (services.items.length > MAX_POOL_MEMBERS) {
        r.add(
          'error',
          'backend/pool-too-many-members',
          `the pool has ${services.items.length} members; APIM allows at most ${MAX_POOL_MEMBERS} backends in a pool`,
          services.offset,
          '.pool.services',
          `split it into pools of ≤${MAX_POOL_MEMBERS}`,
        );
      }
      const seen = new Set<string>();
      services.items.forEach((item, i) => {
        const sub = `.pool.services[${i}]`;
        const idNode = member(item, 'id');
        if (idNode?.kind !== 'string') return; // the schema reported it
        const name = memberName(idNode.value);
        if (name === undefined) {
          r.add(
            'error',
            'backend/pool-member-id',
            `pool member id '${idNode.value}' is not a backend reference`,
            idNode.offset,
            `${sub}.id`,
            "allowed: '/backends/<name>', a full ARM id '/subscriptions/…/providers/Microsoft.ApiManagement/service/<svc>/backends/<name>', or '<name>'",
          );
          return;
        }
        if (seen.has(name))
          r.add(
            'warning',
            'backend/pool-member-duplicate',
            `backend '${name}' is listed twice in the pool; both entries take part in selection`,
            idNode.offset,
            `${sub}.id`,
          );
        seen.add(name);
        const pr = member(item, 'priority');
        const w = member(item, 'weight');
        members.push({
          backendId: name,
          rawId: idNode.value,
          priority: pr?.kind === 'number' ? pr.value : null,
          weight: w?.kind === 'number' ? w.value : null,
        });
        memberRefs.push({ backendId: name, offset: idNode.offset, path: `${c.path}.properties${sub}.id` });
      });
    }
    const sa = member(poolNode, 'sessionAffinity');
    if (sa?.kind === 'object' && levelHas(c.level, '2024-10-01-preview')) checkSessionAffinity(r, sa);
  } else {
    if (poolNode)
      r.add(
        'error',
        'backend/pool-without-type',
        "'pool' is set but type is not 'Pool'",
        poolNode.offset,
        '.pool',
        "set type: 'Pool' (and remove url/protocol), or remove 'pool'",
      );
    const url = member(p, 'url');
    if (!url || url.kind === 'null') {
      r.add(
        'error',
        'backend/missing-url',
        'a Single backend needs a url',
        p.offset,
        '',
        'add url: "https://host/path" (the runtime URL requests are forwarded to)',
      );
    } else if (url.kind === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url.value)) {
      r.add('error', 'backend/url', `url '${url.value}' is not an absolute URL`, url.offset, '.url', 'write it as https://host[:port]/path');
    }
  }

  // Circuit breaker.
  let rule: CircuitBreakerRule | undefined;
  if (ruleNodes?.kind === 'array') {
    if (ruleNodes.items.length > 1) {
      r.add(
        'error',
        'backend/breaker-rules-count',
        `${ruleNodes.items.length} circuit breaker rules; ARM rejects more than one ("Currently, only one rule can be configured for the circuit breaker.")`,
        ruleNodes.items[1]!.offset,
        '.circuitBreaker.rules[1]',
        'keep a single rule; widen its statusCodeRanges/errorReasons instead',
      );
    }
    const first = ruleNodes.items[0];
    if (first && type === 'Single') rule = checkRule(r, first);
    else if (first) checkRule(r, first);
  }

  // Credentials, named values and the parts the emulator does not act on.
  const credNode = member(p, 'credentials');
  const credentials = normalizeCredentials(r, credNode, namedValues);
  const proxy = member(p, 'proxy');
  if (proxy && type === 'Single')
    r.add('warning', 'backend/proxy-ignored', 'proxy is accepted but not used: the emulator connects to the backend url directly', proxy.offset, '.proxy');
  const bp = member(p, 'properties');
  if (bp) r.add('warning', 'backend/service-fabric-ignored', 'Service Fabric properties are accepted but not emulated', bp.offset, '.properties');

  if (r.hasErrors) return { candidate: c, type, def: undefined, memberRefs, hasErrors: true };

  const tls = (props.tls ?? {}) as { validateCertificateChain?: boolean; validateCertificateName?: boolean };
  const fr = (o: unknown): number | undefined => {
    const v = (o as { failureResponse?: { statusCode?: number } } | undefined)?.failureResponse?.statusCode;
    return typeof v === 'number' ? v : undefined;
  };
  const poolPlain = props.pool as { sessionAffinity?: { sessionId?: { source?: string; name?: string } } } | undefined;
  const { line, column } = c.source.positionAt(c.offset);
  const def: BackendDefinition = {
    id: c.id,
    type,
    ...(type === 'Single' && typeof props.url === 'string' ? { url: props.url } : {}),
    ...(typeof props.protocol === 'string' ? { protocol: props.protocol } : {}),
    ...(typeof props.title === 'string' ? { title: props.title } : {}),
    ...(typeof props.description === 'string' ? { description: props.description } : {}),
    credentials,
    tls: { validateCertificateChain: tls.validateCertificateChain ?? true, validateCertificateName: tls.validateCertificateName ?? true },
    ...(proxy ? { proxy: props.proxy as NonNullable<BackendDefinition['proxy']> } : {}),
    ...(rule ? { circuitBreaker: rule } : {}),
    ...(type === 'Pool'
      ? {
          pool: {
            members,
            ...(fr(props.pool) !== undefined ? { failureResponseStatusCode: fr(props.pool) } : {}),
            ...(poolPlain?.sessionAffinity?.sessionId
              ? { sessionAffinity: { source: poolPlain.sessionAffinity.sessionId.source ?? 'Cookie', name: poolPlain.sessionAffinity.sessionId.name ?? '' } }
              : {}),
          },
        }
      : {}),
    ...(c.apiVersion ? { apiVersion: c.apiVersion } : {}),
    file: c.source.file,
    jsonPath: c.path,
    line,
    column,
  };
  return { candidate: c, type, def, memberRefs, hasErrors: false };
}

/** RFC 6265 cookie-name: an HTTP token (no spaces, separators or controls). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * `pool.sessionAffinity`: the schema checks the shape; this checks what the gateway needs to set the cookie. The
 * schema requires neither sessionId nor name, so their absence is reported here.
 */
function checkSessionAffinity(r: Reporter, sa: JsonNode): void {
  const sid = member(sa, 'sessionId');
  if (!sid || sid.kind === 'null') {
    r.add(
      'warning',
      'backend/session-affinity-no-session-id',
      'sessionAffinity has no sessionId, so requests are load-balanced without affinity',
      sa.offset,
      '.pool.sessionAffinity',
      'add sessionId: { source: "Cookie", name: "SessionId" }',
    );
    return;
  }
  if (sid.kind !== 'object') return; // the schema reported it
  const name = member(sid, 'name');
  if (!name || name.kind === 'null') {
    r.add(
      'error',
      'backend/session-affinity-name',
      'sessionAffinity.sessionId has no name: the gateway needs the name of the session cookie',
      sid.offset,
      '.pool.sessionAffinity.sessionId',
      'add name: "SessionId" (any cookie name)',
    );
  } else if (name.kind === 'string' && name.value !== '' && !COOKIE_NAME.test(name.value)) {
    r.add(
      'error',
      'backend/session-affinity-name',
      `sessionAffinity.sessionId.name ${JSON.stringify(name.value)} is not a valid cookie name`,
      name.offset,
      '.pool.sessionAffinity.sessionId.name',
      "allowed: letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces, '=', ';' or quotes)",
    );
  }
}

/** `/backends/x`, a full ARM id ending in `/backends/x`, or a bare name → `x`; undefined for anything else. */
export function memberName(id: string): string | undefined {
  const s = id.trim();
  const m =
    /^(?:\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ApiManagement\/service\/[^/]+(?:\/workspaces\/[^/]+)?)?\/backends\/([^/]+)\/?$/i.exec(
      s,
    );
  if (m) return m[1];
  if (/^[^/*#&+:<>?\s]+$/.test(s)) return s;
  return undefined;
}

function checkRule(r: Reporter, node: JsonNode): CircuitBreakerRule | undefined {
  const sub = '.circuitBreaker.rules[0]';
  const nameNode = member(node, 'name');
  let name = nameNode?.kind === 'string' && nameNode.value ? nameNode.value : undefined;
  if (!name) {
    name = 'rule';
    r.add(
      'warning',
      'backend/breaker-rule-name',
      "the circuit breaker rule has no name; events will call it 'rule'",
      node.offset,
      sub,
      'add name: "<ruleName>"',
    );
  }
  const fc = member(node, 'failureCondition');
  if (!fc) {
    r.add(
      'error',
      'backend/breaker-condition-missing',
      'the circuit breaker rule has no failureCondition, so it could never trip',
      node.offset,
      sub,
      'add failureCondition: { count: 3, interval: "PT1M", statusCodeRanges: [{ min: 500, max: 599 }] }',
    );
    return undefined;
  }
  const fsub = `${sub}.failureCondition`;
  const count = member(fc, 'count');
  const pct = member(fc, 'percentage');
  let ok = true;
  if (count && pct) {
    ok = false;
    r.add(
      'error',
      'backend/breaker-threshold',
      'failureCondition sets both count and percentage; exactly one is allowed',
      pct.offset,
      `${fsub}.percentage`,
      'keep count (failures in the interval) or percentage (of requests in the interval), not both',
    );
  } else if (!count && !pct) {
    ok = false;
    r.add(
      'error',
      'backend/breaker-threshold',
      'failureCondition has neither count nor percentage, so the breaker has no threshold',
      fc.offset,
      fsub,
      'add count: 3 (failures in the interval) or percentage: 50',
    );
  } else if (count?.kind === 'number' && count.value < 1) {
    ok = false;
    r.add('error', 'backend/breaker-threshold', `count ${count.value} must be at least 1`, count.offset, `${fsub}.count`, 'allowed: an integer ≥ 1');
  } else if (pct?.kind === 'number' && (pct.value < 1 || pct.value > 100)) {
    ok = false;
    r.add(
      'error',
      'backend/breaker-threshold',
      `percentage ${pct.value} must be between 1 and 100`,
      pct.offset,
      `${fsub}.percentage`,
      'allowed: an integer 1-100',
    );
  }

  const duration = (n: JsonNode | undefined, key: string, at: string, dflt: string): { ms: number; text: string } | undefined => {
    if (!n) {
      r.add(
        'warning',
        'backend/breaker-default',
        `${key} is not set; the emulator uses the portal default ${dflt}`,
        (member(node, 'failureCondition') && key === 'interval' ? fc : node).offset,
        at.replace(/\.\w+$/, ''),
        `set ${key}: "${dflt}"`,
      );
      return { ms: parseIsoDuration(dflt)!, text: dflt };
    }
    if (n.kind !== 'string') return undefined; // schema reported the type
    const ms = parseIsoDuration(n.value);
    if (ms === null) return undefined; // schema format reported it
    if (ms === 0 && key === 'interval') {
      r.add(
        'error',
        'backend/duration',
        `${key} '${n.value}' is zero; failures could never be counted`,
        n.offset,
        at,
        'use a positive ISO-8601 duration such as PT1M',
      );
      return undefined;
    }
    return { ms, text: n.value };
  };
  const interval = duration(member(fc, 'interval'), 'interval', `${fsub}.interval`, 'PT1H');
  const trip = duration(member(node, 'tripDuration'), 'tripDuration', `${sub}.tripDuration`, 'PT1H');

  const plainFc = toPlain(fc) as { statusCodeRanges?: Array<{ min?: number; max?: number }>; errorReasons?: string[] };
  const ranges: Array<{ min: number; max: number }> = [];
  const rangesNode = member(fc, 'statusCodeRanges');
  // A non-array (object, number, string) is reported by the schema check; here it only must not be walked as one.
  if (rangesNode && rangesNode.kind !== 'array') ok = false;
  (Array.isArray(plainFc.statusCodeRanges) ? plainFc.statusCodeRanges : []).forEach((rg, i) => {
    const rn = rangesNode?.kind === 'array' ? rangesNode.items[i] : undefined;
    if (typeof rg?.min !== 'number' || typeof rg?.max !== 'number') {
      ok = false;
      r.add(
        'error',
        'backend/status-range',
        'a status code range needs both min and max',
        rn?.offset ?? fc.offset,
        `${fsub}.statusCodeRanges[${i}]`,
        'write { "min": 500, "max": 599 } (use min = max for one code, e.g. 429)',
      );
      return;
    }
    if (rg.min > rg.max) {
      ok = false;
      r.add(
        'error',
        'backend/status-range',
        `status code range min ${rg.min} is greater than max ${rg.max}`,
        member(rn, 'min')?.offset ?? fc.offset,
        `${fsub}.statusCodeRanges[${i}].min`,
        'min ≤ max, both within 200-599',
      );
      return;
    }
    ranges.push({ min: rg.min, max: rg.max });
  });
  const reasons = Array.isArray(plainFc.errorReasons) ? plainFc.errorReasons.filter((x): x is string => typeof x === 'string') : [];
  const reasonsNode = member(fc, 'errorReasons');
  reasons.forEach((reason, i) => {
    if (!KNOWN_ERROR_REASONS.some((k) => k.toLowerCase() === reason.toLowerCase())) {
      const rn = reasonsNode?.kind === 'array' ? reasonsNode.items[i] : undefined;
      r.add(
        'warning',
        'backend/error-reason-unknown',
        `errorReason '${reason}' is not an error reason the gateway raises, so it can never match`,
        rn?.offset ?? fc.offset,
        `${fsub}.errorReasons[${i}]`,
        `known: ${KNOWN_ERROR_REASONS.join(', ')}`,
      );
    }
  });
  if (!rangesNode && !reasonsNode) {
    r.add(
      'warning',
      'backend/breaker-never-trips',
      'failureCondition has neither statusCodeRanges nor errorReasons, so nothing counts as a failure',
      fc.offset,
      fsub,
      'add statusCodeRanges: [{ min: 500, max: 599 }] (or 429 for throttling)',
    );
  }
  if (!ok || !interval || !trip) return undefined;
  const acc = member(node, 'acceptRetryAfter');
  const frs = member(member(node, 'failureResponse'), 'statusCode');
  return {
    name,
    ...(count?.kind === 'number' ? { count: count.value } : {}),
    ...(pct?.kind === 'number' ? { percentage: pct.value } : {}),
    intervalMs: interval.ms,
    interval: interval.text,
    tripDurationMs: trip.ms,
    tripDuration: trip.text,
    statusCodeRanges: ranges,
    errorReasons: reasons,
    acceptRetryAfter: acc?.kind === 'boolean' ? acc.value : false,
    ...(frs?.kind === 'number' ? { failureResponseStatusCode: frs.value } : {}),
  };
}

function normalizeCredentials(r: Reporter, node: JsonNode | undefined, namedValues: Map<string, string> | undefined): BackendCredentials {
  const out: BackendCredentials = { headers: {}, query: {} };
  if (node?.kind !== 'object') return out;
  const resolve = (v: JsonNode, sub: string): string => {
    if (v.kind !== 'string') return String(toPlain(v));
    return v.value.replace(/\{\{([^{}]+)\}\}/g, (m, raw: string) => {
      const name = raw.trim();
      if (!namedValues) return m;
      const found = namedValues.get(name) ?? [...namedValues.entries()].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
      if (found !== undefined) return found;
      r.add(
        'warning',
        'backend/named-value-missing',
        `named value '{{${name}}}' is not defined; the credential is sent with the placeholder text`,
        v.offset,
        sub,
        'define it in the named values (config or --named-value)',
      );
      return m;
    });
  };
  for (const kind of ['header', 'query'] as const) {
    const map = member(node, kind);
    if (map?.kind !== 'object') continue;
    const target = kind === 'header' ? out.headers : out.query;
    for (const e of map.entries) {
      if (e.value.kind !== 'array') continue;
      target[e.key] = e.value.items.map((v, i) => resolve(v, `.credentials.${kind}${pathJoin('', e.key)}[${i}]`));
    }
  }
  const auth = member(node, 'authorization');
  const scheme = member(auth, 'scheme');
  const parameter = member(auth, 'parameter');
  if (scheme?.kind === 'string' && parameter?.kind === 'string') {
    out.authorization = { scheme: resolve(scheme, '.credentials.authorization.scheme'), parameter: resolve(parameter, '.credentials.authorization.parameter') };
  }
  const mi = member(node, 'managedIdentity');
  if (mi?.kind === 'object') {
    const res = member(mi, 'resource');
    const cid = member(mi, 'clientId');
    out.managedIdentity = { ...(res?.kind === 'string' ? { resource: res.value } : {}), ...(cid?.kind === 'string' ? { clientId: cid.value } : {}) };
  }
  for (const key of ['certificateIds', 'certificate'] as const) {
    const n = member(node, key);
    if (n?.kind === 'array' && n.items.length) {
      out[key] = n.items.map((x) => String(toPlain(x)));
      r.add(
        'warning',
        'backend/client-certificate-ignored',
        `credentials.${key} is accepted but the emulator does not present client certificates`,
        n.offset,
        `.credentials.${key}`,
      );
    }
  }
  return out;
}

function reportSchemaError(r: Reporter, root: JsonNode, e: ErrorObject, version: string, level: string, suppressed: Set<string>): void {
  const at = resolvePointer(root, e.instancePath);
  const sub = at.path;
  const field = sub ? sub.replace(/^.*[.[]'?/, '').replace(/'?\]$/, '') : 'properties';
  const got = describe(at.node);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      if (suppressed.has(`${e.instancePath}|${key}`)) return;
      const entry = at.node.kind === 'object' ? at.node.entries.find((x) => x.key === key) : undefined;
      const since = featureSince(e.instancePath, key);
      const keySub = `${sub}${pathJoin('', key)}`;
      if (since && !levelHas(level, since)) {
        r.add(
          'error',
          'backend/not-in-api-version',
          `'${key}' is not available in ${version}`,
          entry?.keyOffset ?? at.node.offset,
          keySub,
          `'${key}' exists from api-version ${since}; raise apiVersion or remove it`,
        );
        return;
      }
      const allowed = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      r.add(
        'error',
        'backend/unknown-property',
        `unknown property '${key}'${sub ? ` in ${sub.slice(1)}` : ''}`,
        entry?.keyOffset ?? at.node.offset,
        keySub,
        allowed.length ? `allowed: ${allowed.join(', ')}` : undefined,
      );
      return;
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      r.add('error', 'backend/schema', `${sub ? sub.slice(1) : 'properties'} is missing required property '${key}'`, at.node.offset, sub);
      return;
    }
    case 'type': {
      const t = (e.params as { type: string | string[] }).type;
      r.add('error', 'backend/schema', `'${field}' must be ${Array.isArray(t) ? t.join(' or ') : article(t)}, got ${got}`, at.node.offset, sub);
      return;
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.filter((v) => v !== null);
      r.add(
        'error',
        'backend/schema',
        `'${field}' is ${got}, which is not allowed`,
        at.node.offset,
        sub,
        `allowed: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      );
      return;
    }
    case 'format': {
      r.add('error', 'backend/duration', `'${field}' is ${got}, not an ISO-8601 duration`, at.node.offset, sub, 'write e.g. PT10S, PT1M, PT1H, P1D, PT0.5S');
      return;
    }
    case 'minimum':
    case 'maximum': {
      const parentSchema = e.parentSchema as { minimum?: number; maximum?: number };
      const range = `${parentSchema.minimum ?? '-∞'}-${parentSchema.maximum ?? '∞'}`;
      const code =
        field === 'priority'
          ? 'backend/pool-priority-range'
          : field === 'weight'
            ? 'backend/pool-weight-range'
            : field === 'min' || field === 'max'
              ? 'backend/status-range'
              : 'backend/schema';
      r.add(
        'error',
        code,
        `'${field}' is ${got}, outside ${range}`,
        at.node.offset,
        sub,
        `allowed: an integer ${range}${field === 'priority' ? ' (lower = higher priority) or null' : field === 'weight' ? ' or null' : ''}`,
      );
      return;
    }
    case 'maxItems':
    case 'minItems':
    case 'maxLength':
    case 'minLength':
    case 'pattern': {
      r.add('error', 'backend/schema', `'${field}' ${e.message ?? 'is invalid'}`, at.node.offset, sub);
      return;
    }
    case 'if':
      return; // the branch's own error says what is wrong
    default:
      r.add('error', 'backend/schema', `'${field}' ${e.message ?? 'is invalid'}`, at.node.offset, sub);
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(n: JsonNode): string {
  switch (n.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return JSON.stringify(n.value);
    default:
      return String(n.value);
  }
}
