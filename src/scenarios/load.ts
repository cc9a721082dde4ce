import path from 'node:path';
import { parseIsoDuration } from '../backends/duration.js';
import { displayPath, readSource } from '../config/files.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { mockScriptFromJson, type MockScript } from '../mocks/index.js';
import { validateScenarioSchema } from './schema.js';
import { Cursor, parseScenarioSource } from './source.js';
import type { SentKind } from './sinks.js';
import type { AttemptSpec, ConcurrentEntry, SentSpec, Expectations, Loc, RequestSpec, Scenario, ScenarioStep, ScenarioTarget } from './types.js';
import { AGGREGATE_KEYS, MAX_CONCURRENT_REQUESTS, PER_REQUEST_KEYS, STATE_KEYS } from './types.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/** Default virtual start time: the VirtualClock's own default, so scenarios and unit tests line up. */
export const DEFAULT_START = Date.UTC(2025, 0, 1);
/** Default `tolerance` of `distribution`, percentage points. */
export const DEFAULT_TOLERANCE = 5;

export interface LoadedScenario {
  /** The scenario, when the file has no error. */
  scenario: Scenario | null;
  diagnostics: Diagnostic[];
  /**
   * With errors: the parts that are sound (the target when its keys are, the steps without a schema error), so the
   * runner can still check paths and references and report every problem of the file in one pass. Never run.
   */
  partial: Scenario | null;
}

/** Keys that name what is under test. */
const TARGET_KEYS = ['config', 'policy', 'globalPolicy', 'fragments', 'backends', 'namedValues', 'api'] as const;

/**
 * Reads and validates one scenario file. Shape problems (schema) and contradictions inside the file are diagnostics with
 * file, JSON path, line and column; checks that need the loaded gateway (unknown backend ids) happen in the runner.
 * Parts with a schema error are left out and the rest is still checked, so one run reports every problem.
 */
export function loadScenario(file: string): LoadedScenario {
  const diagnostics: Diagnostic[] = [];
  const abs = path.resolve(file);
  const source = readSource(abs, diagnostics);
  if (!source) return { scenario: null, diagnostics, partial: null };
  const parsed = parseScenarioSource(source, diagnostics);
  if (!parsed) return { scenario: null, diagnostics, partial: null };
  const schema = validateScenarioSchema(parsed.value, parsed.root, source);
  diagnostics.push(...schema);
  if (parsed.root.kind !== 'object') return { scenario: null, diagnostics, partial: null };
  const brokenPaths = schema.map((d) => d.jsonPath ?? '$');
  /** A schema error at or under this JSON path. */
  const broken = (p: string) => brokenPaths.some((b) => b === p || b.startsWith(`${p}.`) || b.startsWith(`${p}[`));

  const root = new Cursor(parsed.root, '$', source);
  const dir = path.dirname(abs);
  const err = (loc: Loc, code: DiagnosticCode, message: string, hint?: string) =>
    diagnostics.push({ severity: 'error', code, message, ...(hint ? { hint } : {}), ...loc });
  const pathAt = (c: Cursor) => ({ path: path.resolve(dir, c.string!), loc: c.loc });

  // What is under test: a config file, or policy + backends files.
  const targetSound = !TARGET_KEYS.some((k) => broken(`$.${k}`));
  const config = root.get('config');
  const fileKeys = ['policy', 'globalPolicy', 'fragments', 'backends', 'namedValues', 'api'].filter((k) => root.get(k));
  let target: ScenarioTarget;
  if (!targetSound) {
    // Reported by the schema; the scenario is not checked against files it cannot name.
    target = { kind: 'files', fragments: [], backends: [], namedValues: {}, api: { id: 'api', path: '' } };
  } else if (config) {
    for (const k of fileKeys)
      err(
        root.get(k)!.keyLoc,
        'scenario/conflict',
        `"${k}" cannot be combined with "config"`,
        'name the policies and backends in the config file, or drop "config"',
      );
    target = { kind: 'config', ...pathAt(config) };
  } else {
    if (!root.get('policy') && !root.get('globalPolicy')) {
      err(
        root.loc,
        'scenario/no-target',
        'the scenario names nothing to test',
        'give "config" (an apim-emulator config file) or "policy" (and usually "backends")',
      );
    }
    const backends = root.get('backends');
    const apiC = root.get('api');
    target = {
      kind: 'files',
      ...(root.get('policy') ? { policy: pathAt(root.get('policy')!) } : {}),
      ...(root.get('globalPolicy') ? { globalPolicy: pathAt(root.get('globalPolicy')!) } : {}),
      fragments: (root.get('fragments')?.entries() ?? []).map(([id, c]) => ({ id, ...pathAt(c) })),
      backends: backends ? (backends.node.kind === 'array' ? backends.items() : [backends]).map(pathAt) : [],
      namedValues: Object.fromEntries((root.get('namedValues')?.entries() ?? []).map(([k, c]) => [k, c.string ?? ''])),
      api: { id: apiC?.get('id')?.string ?? 'api', path: apiC?.get('path')?.string ?? '' },
    };
  }

  let start = DEFAULT_START;
  const startC = root.get('start');
  if (startC && !broken('$.start')) {
    start = Date.parse(startC.string!);
    if (Number.isNaN(start)) {
      err(startC.loc, 'scenario/start', `"${startC.string}" is not a valid time`, 'an ISO 8601 time such as 2025-01-01T00:00:00Z');
      start = DEFAULT_START;
    }
  }

  const mocks = new Map<string, { script: MockScript; loc: Loc }>();
  const mocksSound = !broken('$.mocks');
  for (const [id, c] of root.get('mocks')?.entries() ?? []) {
    if (broken(c.path)) continue;
    const s = parseScript(c, source.file, diagnostics);
    if (s) mocks.set(id, { script: s, loc: c.keyLoc });
  }

  const steps: ScenarioStep[] = [];
  (root.get('steps')?.items() ?? []).forEach((c, i) => {
    if (broken(c.path)) return;
    const s = normalizeStep(c, i + 1, source.file, diagnostics);
    if (s) steps.push(s);
  });

  const base = path.basename(abs);
  const scenario: Scenario = {
    path: abs,
    file: displayPath(abs),
    name: root.get('name')?.string ?? base.replace(/\.(scenario\.)?(ya?ml|json)$/i, ''),
    target,
    start,
    mocks,
    // With a broken mock left out, "no mock script" would be a false alarm: answer like Azure OpenAI while checking.
    unmockedBackends: mocksSound && !broken('$.unmockedBackends') ? ((root.get('unmockedBackends')?.string as 'aoai' | 'error' | undefined) ?? 'aoai') : 'aoai',
    unmockedLoc: root.get('unmockedBackends')?.loc ?? root.loc,
    snapshot: root.get('snapshot')?.node.kind === 'boolean' ? (root.get('snapshot')!.value as boolean) : true,
    steps,
  };
  const hasErrors = diagnostics.some((d) => d.severity === 'error');
  if (!hasErrors) return { scenario, diagnostics, partial: null };
  return { scenario: null, diagnostics, partial: targetSound ? scenario : null };
}

/** Where a scenario's snapshot lives: `<name>.snap.txt` next to it (`x.scenario.yaml` → `x.snap.txt`). */
export function snapshotPathFor(scenarioPath: string): string {
  const dir = path.dirname(scenarioPath);
  const base = path.basename(scenarioPath).replace(/\.(scenario\.)?(ya?ml|json)$/i, '');
  return path.join(dir, `${base}.snap.txt`);
}

function parseScript(c: Cursor, file: string, diagnostics: Diagnostic[]): MockScript | undefined {
  const r = mockScriptFromJson(c.value, file, c.path);
  for (const d of r.diagnostics) {
    // The JSON form names a JSON path only; add the line of the script in the scenario file.
    diagnostics.push(d.line === undefined ? { ...d, file, line: c.loc.line, column: c.loc.column } : d);
  }
  return r.diagnostics.some((d) => d.severity === 'error') ? undefined : r.script;
}

function normalizeStep(c: Cursor, index: number, file: string, diagnostics: Diagnostic[]): ScenarioStep | null {
  const err = (loc: Loc, code: DiagnosticCode, message: string, hint?: string) =>
    diagnostics.push({ severity: 'error', code, message, ...(hint ? { hint } : {}), ...loc });
  const actions = (['send', 'concurrent', 'advance', 'script'] as const).filter((k) => c.get(k));
  if (actions.length > 1) {
    err(
      c.get(actions[1]!)!.keyLoc,
      'scenario/step',
      `step ${index} has both "${actions[0]}" and "${actions[1]}"`,
      'one action per step: send, concurrent, advance or script (or only expect)',
    );
    return null;
  }
  const name = c.get('name')?.string;
  const expectC = c.get('expect');
  const expect = expectC ? normalizeExpect(expectC) : undefined;
  const base = { index, name, loc: c.loc, expect };
  const action = actions[0];
  if (c.get('repeat') && action !== 'send') {
    const hint = action === 'concurrent' ? 'in a concurrent step, give repeat on each entry' : "repeat sends the step's request N times";
    err(c.get('repeat')!.keyLoc, 'scenario/step', `"repeat" needs "send" in step ${index}`, hint);
  }
  const sends = action === 'send' || action === 'concurrent';
  if (!sends && expectC) {
    for (const k of [...PER_REQUEST_KEYS, ...AGGREGATE_KEYS] as const) {
      const kc = expectC.get(k);
      if (kc)
        err(
          kc.keyLoc,
          'scenario/expect',
          `"${k}" is about a response, but step ${index} sends no request`,
          'in steps without "send" or "concurrent" expect only breakers and mockRequests',
        );
    }
  }
  if (!action && !expectC) {
    err(c.loc, 'scenario/step', `step ${index} does nothing`, 'give send, concurrent, advance, script or expect');
    return null;
  }
  if (action === 'send' && expectC) checkAggregates(expectC, c.get('repeat')?.number ?? 1, `step ${index}`, err);

  if (action === 'send') return { ...base, kind: 'send', request: normalizeRequest(c.get('send')!), repeat: c.get('repeat')?.number ?? 1 };
  if (action === 'concurrent') {
    const entries: ConcurrentEntry[] = c
      .get('concurrent')!
      .items()
      .map((ec, i) => {
        const eExpect = ec.get('expect');
        const repeat = ec.get('repeat')?.number ?? 1;
        const what = `request ${i + 1} of the concurrent step ${index}`;
        if (eExpect) {
          for (const k of STATE_KEYS) {
            const kc = eExpect.get(k);
            if (kc) err(kc.keyLoc, 'scenario/expect', `"${k}" is state after the whole step, not about ${what}`, "move it to the step's own expect");
          }
          checkAggregates(eExpect, repeat, what, err);
        }
        return {
          request: normalizeRequest(ec.get('send')!),
          repeat,
          name: ec.get('name')?.string,
          expect: eExpect ? normalizeExpect(eExpect) : undefined,
          loc: ec.loc,
        };
      });
    const total = entries.reduce((n, e) => n + e.repeat, 0);
    if (total > MAX_CONCURRENT_REQUESTS) {
      err(
        c.get('concurrent')!.keyLoc,
        'scenario/step',
        `step ${index} starts ${total} requests at once, more than ${MAX_CONCURRENT_REQUESTS}`,
        'split it into several steps, or use send with repeat (one after the other)',
      );
    }
    if (expectC) checkAggregates(expectC, total, `step ${index}`, err);
    return { ...base, kind: 'concurrent', entries };
  }
  if (action === 'advance') {
    const text = c.get('advance')!.string!;
    const ms = parseDuration(text);
    if (ms === null) {
      err(c.get('advance')!.loc, 'scenario/duration', `"${text}" is not a duration`, 'e.g. 500ms, 30s, 1m30s, 2h, PT1M');
      return null;
    }
    return { ...base, kind: 'advance', ms, text: text.trim() };
  }
  if (action === 'script') {
    const scripts: Array<{ backendId: string; script: MockScript; loc: Loc }> = [];
    for (const [id, sc] of c.get('script')!.entries()) {
      const s = parseScript(sc, file, diagnostics);
      if (s) scripts.push({ backendId: id, script: s, loc: sc.keyLoc });
    }
    return { ...base, kind: 'script', scripts };
  }
  return { ...base, kind: 'check' };
}

/** Contradictions in the aggregate expectations over `n` requests: shares that do not add up, counts that cannot. */
function checkAggregates(expectC: Cursor, n: number, what: string, err: (loc: Loc, code: DiagnosticCode, message: string, hint?: string) => void): void {
  const dist = expectC.get('distribution');
  if (dist) {
    const sum = dist.entries().reduce((s, [, v]) => s + (v.number ?? 0), 0);
    if (Math.abs(sum - 100) > 0.01)
      err(dist.loc, 'scenario/expect', `the shares of "distribution" add up to ${sum}, not 100`, "give each backend's percentage of the repeated requests");
    if (n < 2) err(dist.keyLoc, 'scenario/expect', '"distribution" needs "repeat" (a share of one request says little)', 'add e.g. repeat: 100');
  }
  if (expectC.get('tolerance') && !dist) err(expectC.get('tolerance')!.keyLoc, 'scenario/expect', '"tolerance" applies to "distribution", which is not given');
  for (const k of ['statuses', 'servedBy'] as const) {
    const kc = expectC.get(k);
    if (!kc) continue;
    const sum = kc.entries().reduce((s, [, v]) => s + (v.number ?? 0), 0);
    if (sum !== n)
      err(
        kc.loc,
        'scenario/expect',
        `the counts of "${k}" add up to ${sum}, but ${what} sends ${n} request${n === 1 ? '' : 's'}`,
        'give the count of every outcome; together they are all the requests',
      );
  }
}

function normalizeRequest(c: Cursor): RequestSpec {
  const headers: Array<[string, string[]]> =
    c
      .get('headers')
      ?.entries()
      .map(([k, v]) => [k, v.node.kind === 'array' ? v.items().map((i) => i.string ?? '') : [v.string ?? '']]) ?? [];
  const bodyC = c.get('body');
  let body: string | undefined;
  if (bodyC) {
    if (bodyC.node.kind === 'string') body = bodyC.string!;
    else {
      body = JSON.stringify(bodyC.value);
      if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['Content-Type', ['application/json']]);
    }
  }
  const method = (c.get('method')?.string ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase();
  return { method, path: c.get('path')!.string!, headers, body };
}

function normalizeExpect(c: Cursor): Expectations {
  const keyLocs = new Map<string, Loc>();
  // Scalars point at their value, object members at their key (a backend id), list items at the item.
  for (const [k, v] of c.entries()) {
    keyLocs.set(k, v.node.kind === 'object' || v.node.kind === 'array' ? v.keyLoc : v.loc);
    for (const [k2, v2] of v.entries()) {
      keyLocs.set(`${k}.${k2}`, v2.keyLoc);
      v2.items().forEach((item, i) => keyLocs.set(`${k}.${k2}[${i}]`, item.loc));
    }
    v.items().forEach((item, i) => keyLocs.set(`${k}[${i}]`, item.loc));
  }
  const status = c.get('status');
  const e: Expectations = { tolerance: c.get('tolerance')?.number ?? DEFAULT_TOLERANCE, loc: c.loc, keyLocs };
  if (status) e.status = status.node.kind === 'array' ? status.items().map((i) => i.number!) : [status.number!];
  const headers = c.get('headers');
  if (headers) e.headers = headers.entries().map(([k, v]) => [k, v.value as string | boolean | null]);
  const body = c.get('body');
  if (body) e.body = body.entries().map(([k, v]) => [k, v.value]);
  if (c.get('bodyContains')) e.bodyContains = c.get('bodyContains')!.string!;
  const backend = c.get('backend');
  if (backend) e.backend = backend.node.kind === 'null' ? null : backend.string!;
  const attempts = c.get('attempts');
  if (attempts) e.attempts = attempts.items().map((i) => parseAttempt(i.string!));
  if (c.get('attemptCount')) e.attemptCount = c.get('attemptCount')!.number!;
  const dist = c.get('distribution');
  if (dist) e.distribution = dist.entries().map(([k, v]) => [k, v.number!]);
  const statuses = c.get('statuses');
  if (statuses) e.statuses = statuses.entries().map(([k, v]) => [Number(k), v.number!]);
  const servedBy = c.get('servedBy');
  if (servedBy) e.servedBy = servedBy.entries().map(([k, v]) => [k, v.number!]);
  const breakers = c.get('breakers');
  if (breakers) e.breakers = breakers.entries().map(([k, v]) => [k, v.string as 'open' | 'closed']);
  const mr = c.get('mockRequests');
  if (mr) e.mockRequests = mr.entries().map(([k, v]) => [k, v.number!]);
  const sent = c.get('sent');
  if (sent) {
    e.sent = sent.items().map((i): SentSpec => {
      const payload = i.get('payload');
      return {
        kind: i.get('kind')!.string as SentKind,
        ...(i.get('target') ? { target: i.get('target')!.string! } : {}),
        ...(payload ? { payload: payload.value } : {}),
        ...(i.get('payloadContains') ? { payloadContains: i.get('payloadContains')!.string! } : {}),
        ...(i.get('count') ? { count: i.get('count')!.number! } : {}),
      };
    });
  }
  const trace = c.get('trace');
  if (trace?.get('ran'))
    e.traceRan = trace
      .get('ran')!
      .items()
      .map((i) => i.string!.trim());
  if (trace?.get('notRan'))
    e.traceNotRan = trace
      .get('notRan')!
      .items()
      .map((i) => i.string!.trim());
  return e;
}

function parseAttempt(s: string): AttemptSpec {
  const [backend, outcome] = s.trim().split(/\s+/) as [string, string | undefined];
  if (outcome === undefined) return { backend };
  return { backend, outcome: outcome === 'error' ? 'error' : Number(outcome) };
}

/** `500ms`, `30s`, `1m30s`, `2h`, `1.5s`, or ISO 8601 (`PT1M30S`); null when not a duration. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (/^P/i.test(t)) return parseIsoDuration(t.toUpperCase());
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  const compact = t.replace(/\s+/g, '');
  let m: RegExpExecArray | null;
  while ((m = re.exec(compact)) !== null) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== compact.length) return null;
  return Math.round(total);
}
