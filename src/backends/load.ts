import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import { ARM_LIMITS, ArmError, ArmTemplate, type EvalContext, isExpression } from './arm.js';
import { type JsonNode, JsonSyntaxError, member, memberCI, parseJsonWithPositions, pathJoin, toPlain } from '../source/json.js';
import { API_VERSION_PATTERN, NEWEST_LEVEL, levelFor } from './schema.js';
import type { BackendDefinition, BackendInputFile, LoadBackendsOptions } from './types.js';
import { type BackendCandidate, type CheckedBackend, checkBackend, prepareProperties } from './validate.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';

/**
 * Reads backend definitions in every shape users have (docs/apim-behaviour.md: Pools, breakers and backend URLs):
 * - one backend resource `{ type?, name, apiVersion?, properties }`, or an array of them;
 * - `{ backends: [...] }` (the corpus shape, with `note`/`source`/`policyPlaceholders`/`namedValues`);
 * - the REST list `{ value: [{ id, name, type, properties }] }`;
 * - an ARM deployment template (`resources` array, or object with languageVersion 2.0), including backends nested in a
 *   `Microsoft.ApiManagement/service` resource and inline nested deployments (what Bicep modules compile to);
 * - an ARM parameters file `{ $schema: …deploymentParameters…, parameters: { x: { value } } }`, whose values feed the
 *   templates loaded with it (values passed in opts.parameters win).
 */

const BACKENDS_TYPE = 'microsoft.apimanagement/service/backends';
const SERVICE_TYPE = 'microsoft.apimanagement/service';
const WORKSPACE_BACKENDS_TYPE = 'microsoft.apimanagement/service/workspaces/backends';
const DEPLOYMENTS_TYPE = 'microsoft.resources/deployments';
const WRAPPER_KEYS = new Set(['note', 'source', 'policyplaceholders', 'namedvalues', 'backends', '$schema', 'description']);

export interface LoadBackendsResult {
  backends: BackendDefinition[];
  diagnostics: Diagnostic[];
  /** Merged `policyPlaceholders` of the corpus files (e.g. `{backend-id}` → `inference-backend-pool`). */
  placeholders: Record<string, string>;
  /** Merged top-level `namedValues` of the corpus files (convenience; the gateway's own named values win). */
  namedValues: Record<string, string>;
}

interface RawCandidate {
  source: SourceText;
  resource: JsonNode;
  path: string;
  template?: ArmTemplate;
  ctx: EvalContext;
  /** Inside a service resource's `resources`, where `type: "backends"` is the short form. */
  nested?: boolean;
  /** From a plain list: the `type` must be the backends type when present. */
  listed?: boolean;
}

export function loadBackends(files: BackendInputFile[], opts: LoadBackendsOptions = {}): LoadBackendsResult {
  const diagnostics: Diagnostic[] = [];
  const placeholders: Record<string, string> = {};
  const fileNamedValues: Record<string, string> = {};
  const parsed: Array<{ source: SourceText; root: JsonNode }> = [];

  for (const f of files) {
    const source = new SourceText(f.file, f.text);
    try {
      parsed.push({ source, root: parseJsonWithPositions(f.text) });
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      const { line, column } = source.positionAt(e.offset);
      diagnostics.push({
        severity: 'error',
        code: 'backend/json-syntax',
        message: `invalid JSON: ${e.message}`,
        file: f.file,
        line,
        column,
        hint: 'backend files are JSON (ARM templates may contain // comments)',
      });
    }
  }

  // Parameters files first: their values feed every template in this load.
  const parameters: Record<string, unknown> = {};
  const documents: typeof parsed = [];
  for (const d of parsed) {
    if (isParametersFile(d.root)) {
      for (const e of (member(d.root, 'parameters') as Extract<JsonNode, { kind: 'object' }>).entries) {
        const v = member(e.value, 'value');
        if (v) parameters[e.key] = toPlain(v);
        else if (member(e.value, 'reference')) {
          const { line, column } = d.source.positionAt(e.value.offset);
          diagnostics.push({
            severity: 'error',
            code: 'backend/arm-unsupported',
            message: `parameter '${e.key}' is a Key Vault reference, which cannot be resolved offline`,
            file: d.source.file,
            line,
            column,
            jsonPath: pathJoin('$.parameters', e.key),
            hint: 'give it a literal value with --parameter',
          });
        }
      }
    } else documents.push(d);
  }
  Object.assign(parameters, opts.parameters ?? {});

  const raw: RawCandidate[] = [];
  for (const { source, root } of documents) {
    const err = (offset: number, path: string, code: DiagnosticCode, message: string, hint?: string, severity: 'error' | 'warning' = 'error') => {
      const { line, column } = source.positionAt(offset);
      diagnostics.push({ severity, code, message, file: source.file, line, column, jsonPath: path, ...(hint ? { hint } : {}) });
    };
    if (root.kind === 'array') {
      root.items.forEach((item, i) => raw.push({ source, resource: item, path: `$[${i}]`, ctx: {}, listed: true }));
      continue;
    }
    if (root.kind !== 'object') {
      err(root.offset, '$', 'backend/unrecognized-document', 'expected a JSON object or array of backend definitions', SHAPES_HINT);
      continue;
    }
    const resources = memberCI(root, 'resources');
    const backends = memberCI(root, 'backends');
    const value = memberCI(root, 'value');
    if (resources && (resources.value.kind === 'array' || resources.value.kind === 'object') && !memberCI(root, 'properties')) {
      let template: ArmTemplate;
      try {
        template = new ArmTemplate(root, parameters, 'the parameters passed in');
      } catch (e) {
        if (e instanceof ArmError) {
          err(e.offset, e.jsonPath, e.code, e.message, e.hint);
          continue;
        }
        throw e;
      }
      collectTemplate(source, root, template, '$', raw, err);
      continue;
    }
    if (backends) {
      if (backends.value.kind !== 'array') {
        err(backends.value.offset, '$.backends', 'backend/unrecognized-document', "'backends' must be an array of backend resources");
        continue;
      }
      backends.value.items.forEach((item, i) => raw.push({ source, resource: item, path: `$.backends[${i}]`, ctx: {}, listed: true }));
      for (const e of root.entries) {
        if (!WRAPPER_KEYS.has(e.key.toLowerCase()))
          err(
            e.keyOffset,
            pathJoin('$', e.key),
            'backend/unknown-key',
            `unknown top-level key '${e.key}' next to 'backends'; it is ignored`,
            'known: backends, policyPlaceholders, namedValues, note, source',
            'warning',
          );
      }
      const ph = memberCI(root, 'policyPlaceholders')?.value;
      if (ph?.kind === 'object') {
        for (const e of ph.entries) {
          if (e.value.kind !== 'string') continue;
          if (placeholders[e.key] !== undefined && placeholders[e.key] !== e.value.value) {
            err(
              e.value.offset,
              pathJoin('$.policyPlaceholders', e.key),
              'backend/placeholder-conflict',
              `policy placeholder '${e.key}' is '${e.value.value}' here but '${placeholders[e.key]}' in an earlier file; the first wins`,
              undefined,
              'warning',
            );
          } else placeholders[e.key] = e.value.value;
        }
      }
      const nv = memberCI(root, 'namedValues')?.value;
      if (nv?.kind === 'object') for (const e of nv.entries) if (e.value.kind === 'string') fileNamedValues[e.key] ??= e.value.value;
      continue;
    }
    if (value && value.value.kind === 'array') {
      value.value.items.forEach((item, i) => raw.push({ source, resource: item, path: `$.value[${i}]`, ctx: {}, listed: true }));
      continue;
    }
    if (memberCI(root, 'properties')) {
      raw.push({ source, resource: root, path: '$', ctx: {}, listed: true });
      continue;
    }
    err(root.offset, '$', 'backend/unrecognized-document', 'this JSON is not a backend definition', SHAPES_HINT);
  }

  const namedValues =
    opts.namedValues || Object.keys(fileNamedValues).length
      ? new Map([...Object.entries(fileNamedValues), ...(opts.namedValues ?? new Map<string, string>())])
      : undefined;

  const checked: CheckedBackend[] = [];
  for (const rc of raw) {
    const c = toCandidate(rc, diagnostics);
    if (c) checked.push(checkBackend(c, diagnostics, namedValues));
  }
  crossCheck(checked, diagnostics);

  // Report in reading order: by input file, then position (checks run in several passes).
  const fileOrder = new Map(files.map((f, i) => [f.file, i]));
  const ordered = diagnostics
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        (fileOrder.get(a.d.file ?? '') ?? -1) - (fileOrder.get(b.d.file ?? '') ?? -1) ||
        (a.d.line ?? 0) - (b.d.line ?? 0) ||
        (a.d.column ?? 0) - (b.d.column ?? 0) ||
        a.i - b.i,
    )
    .map((x) => x.d);
  const backends = checked.filter((b) => b.def && !b.hasErrors).map((b) => b.def!);
  return { backends, diagnostics: ordered, placeholders, namedValues: fileNamedValues };
}

const SHAPES_HINT =
  'accepted: a backend resource { name, properties }, an array of them, { backends: [...] }, { value: [...] } (REST list), or an ARM template with Microsoft.ApiManagement/service/backends resources';

function isParametersFile(root: JsonNode): boolean {
  const schema = member(root, '$schema');
  if (schema?.kind === 'string' && /deploymentParameters/i.test(schema.value)) return member(root, 'parameters')?.kind === 'object';
  return false;
}

type Reporter = (offset: number, path: string, code: DiagnosticCode, message: string, hint?: string, severity?: 'error' | 'warning') => void;

function collectTemplate(source: SourceText, root: JsonNode, template: ArmTemplate, base: string, out: RawCandidate[], err: Reporter): void {
  const resources = memberCI(root, 'resources')!.value;
  const list: Array<{ node: JsonNode; path: string }> =
    resources.kind === 'array'
      ? resources.items.map((n, i) => ({ node: n, path: `${base}.resources[${i}]` }))
      : resources.kind === 'object'
        ? resources.entries.map((e) => ({ node: e.value, path: pathJoin(`${base}.resources`, e.key) }))
        : [];
  for (const { node, path } of list) walkResource(source, node, path, template, {}, false, out, err);
}

function walkResource(
  source: SourceText,
  node: JsonNode,
  path: string,
  template: ArmTemplate,
  ctx: EvalContext,
  nestedInService: boolean,
  out: RawCandidate[],
  err: Reporter,
): void {
  if (node.kind !== 'object') return;
  try {
    const existing = memberCI(node, 'existing')?.value;
    if (existing?.kind === 'boolean' && existing.value) return;
    const copy = memberCI(node, 'copy');
    if (copy && ctx.copyIndex === undefined) {
      const countNode = memberCI(copy.value, 'count');
      const nameNode = memberCI(copy.value, 'name');
      const count = countNode ? template.evaluateValue(countNode.value, `${path}.copy.count`) : undefined;
      if (typeof count !== 'number' || count < 0) {
        err(countNode?.value.offset ?? copy.value.offset, `${path}.copy.count`, 'backend/arm-expression', 'copy.count must evaluate to a non-negative integer');
        return;
      }
      if (count > ARM_LIMITS.copyCount) {
        err(
          countNode?.value.offset ?? copy.value.offset,
          `${path}.copy.count`,
          'backend/arm-limit',
          `copy.count is ${count}; ARM allows at most ${ARM_LIMITS.copyCount} copies of a resource`,
          'split the loop, or lower the count',
        );
        return;
      }
      const copyName = nameNode?.value.kind === 'string' ? nameNode.value.value : undefined;
      for (let i = 0; i < count; i++) {
        walkResource(source, node, path, template, { copyIndex: i, ...(copyName !== undefined ? { copyName } : {}) }, nestedInService, out, err);
      }
      return;
    }
    const condition = memberCI(node, 'condition');
    if (condition && template.evaluateValue(condition.value, `${path}.condition`, ctx) === false) return;
    const typeNode = memberCI(node, 'type')?.value;
    const type = typeNode ? template.evaluateValue(typeNode, `${path}.type`, ctx) : undefined;
    const t = typeof type === 'string' ? type.toLowerCase() : '';
    if (t === BACKENDS_TYPE || (nestedInService && t === 'backends')) {
      out.push({ source, resource: node, path, template, ctx, nested: nestedInService });
    } else if (t === SERVICE_TYPE) {
      const children = memberCI(node, 'resources')?.value;
      if (children?.kind === 'array') children.items.forEach((n, i) => walkResource(source, n, `${path}.resources[${i}]`, template, {}, true, out, err));
    } else if (t === WORKSPACE_BACKENDS_TYPE || (nestedInService && t === 'workspaces/backends')) {
      err(
        node.offset,
        path,
        'backend/workspace-unsupported',
        'workspace backends (Microsoft.ApiManagement/service/workspaces/backends) are not emulated; this resource is skipped',
        'define the backend at service level',
        'warning',
      );
    } else if (t === DEPLOYMENTS_TYPE) {
      const props = memberCI(node, 'properties')?.value;
      const inner = memberCI(props, 'template')?.value;
      if (!inner) {
        if (memberCI(props, 'templateLink')) {
          err(
            node.offset,
            path,
            'backend/arm-unsupported',
            'linked templates (templateLink) cannot be fetched offline; backends inside are not loaded',
            'pass the linked template file itself',
            'warning',
          );
        }
        return;
      }
      const scope = memberCI(memberCI(props, 'expressionEvaluationOptions')?.value, 'scope')?.value;
      const innerScope = scope?.kind === 'string' && scope.value.toLowerCase() === 'inner';
      let innerTemplate = template;
      if (innerScope) {
        const values: Record<string, unknown> = {};
        const ps = memberCI(props, 'parameters')?.value;
        if (ps?.kind === 'object') {
          for (const e of ps.entries) {
            const v = memberCI(e.value, 'value')?.value;
            if (v) values[e.key] = template.evaluateValue(v, `${pathJoin(`${path}.properties.parameters`, e.key)}.value`, ctx);
          }
        }
        innerTemplate = new ArmTemplate(inner, values, 'the nested deployment parameters');
      }
      if (memberCI(inner, 'resources')) collectTemplate(source, inner, innerTemplate, `${path}.properties.template`, out, err);
    }
  } catch (e) {
    if (e instanceof ArmError) err(e.offset, e.jsonPath, e.code, e.message, e.hint);
    else throw e;
  }
}

function toCandidate(rc: RawCandidate, diagnostics: Diagnostic[]): BackendCandidate | undefined {
  const { source, resource, path } = rc;
  const err = (offset: number, p: string, code: DiagnosticCode, message: string, hint?: string) => {
    const { line, column } = source.positionAt(offset);
    diagnostics.push({ severity: 'error', code, message, file: source.file, line, column, jsonPath: p, ...(hint ? { hint } : {}) });
  };
  if (resource.kind !== 'object') {
    err(resource.offset, path, 'backend/unrecognized-document', 'a backend definition must be a JSON object', SHAPES_HINT);
    return undefined;
  }
  const evaluate = (n: JsonNode, p: string): JsonNode => (rc.template ? rc.template.evaluateNode(n, p, rc.ctx) : n);
  try {
    if (rc.listed) {
      const typeNode = memberCI(resource, 'type')?.value;
      if (typeNode?.kind === 'string' && typeNode.value.toLowerCase() !== BACKENDS_TYPE) {
        err(
          typeNode.offset,
          `${path}.type`,
          'backend/not-a-backend',
          `resource type '${typeNode.value}' is not a backend`,
          'allowed: Microsoft.ApiManagement/service/backends',
        );
        return undefined;
      }
    }
    for (const n of [resource]) {
      // Outside a template an expression cannot be evaluated; say so instead of treating "[...]" as a name or url.
      if (!rc.template) {
        const expr = findExpression(n, path);
        if (expr) {
          err(
            expr.offset,
            expr.path,
            'backend/arm-expression',
            `'${expr.text}' is an ARM template expression, which is only evaluated inside a deployment template (a file with 'resources')`,
            'wrap the resource in an ARM template with the parameters it uses, or write the value literally',
          );
          return undefined;
        }
      }
    }
    const nameEntry = memberCI(resource, 'name');
    const idEntry = memberCI(resource, 'id');
    let name: string | undefined;
    let nameOffset = resource.offset;
    if (nameEntry) {
      const v = evaluate(nameEntry.value, `${path}.name`);
      nameOffset = v.offset;
      if (v.kind !== 'string') {
        err(v.offset, `${path}.name`, 'backend/invalid-name', 'the backend name must be a string');
        return undefined;
      }
      name = v.value;
    } else if (idEntry?.value.kind === 'string') {
      name = idEntry.value.value;
      nameOffset = idEntry.value.offset;
    }
    if (name === undefined) {
      err(resource.offset, path, 'backend/invalid-name', 'the backend has no name', 'add name: "<backend-id>" (or "<service>/<backend-id>" in ARM templates)');
      return undefined;
    }
    const id = name.split('/').filter(Boolean).pop() ?? '';
    if (!id || id.length > 80 || !/^[^*#&+:<>?\s]+$/.test(id)) {
      err(
        nameOffset,
        `${path}.name`,
        'backend/invalid-name',
        `backend name '${name}' is not a valid backend id`,
        'allowed: 1-80 characters, none of * # & + : < > ? or spaces; written as "<backend>" or "<service>/<backend>"',
      );
      return undefined;
    }
    let apiVersion: string | undefined;
    const av = memberCI(resource, 'apiVersion');
    if (av) {
      const v = evaluate(av.value, `${path}.apiVersion`);
      if (v.kind !== 'string' || !API_VERSION_PATTERN.test(v.value)) {
        err(
          v.offset,
          `${path}.apiVersion`,
          'backend/api-version',
          `apiVersion ${v.kind === 'string' ? `'${v.value}'` : 'must be a string'} is not an API version`,
          'write it as yyyy-mm-dd or yyyy-mm-dd-preview, e.g. 2024-06-01-preview',
        );
        return undefined;
      }
      apiVersion = v.value;
    }
    const pe = memberCI(resource, 'properties');
    if (!pe) {
      err(
        resource.offset,
        path,
        'backend/missing-properties',
        `backend '${id}' has no 'properties'`,
        'add properties: { url, protocol } for a single backend, or { type: "Pool", pool: { services } }',
      );
      return undefined;
    }
    const props = evaluate(pe.value, `${path}.properties`);
    if (props.kind !== 'object') {
      err(props.offset, `${path}.properties`, 'backend/schema', `'properties' must be an object`);
      return undefined;
    }
    return {
      source,
      id,
      ...(apiVersion ? { apiVersion } : {}),
      level: apiVersion ? levelFor(apiVersion)! : NEWEST_LEVEL,
      properties: prepareProperties(props),
      path,
      offset: resource.offset,
    };
  } catch (e) {
    if (e instanceof ArmError) {
      err(e.offset, e.jsonPath, e.code, e.message, e.hint);
      return undefined;
    }
    throw e;
  }
}

function findExpression(n: JsonNode, path: string): { offset: number; path: string; text: string } | undefined {
  if (n.kind === 'string') return isExpression(n.value) ? { offset: n.offset, path, text: n.value } : undefined;
  if (n.kind === 'object') {
    for (const e of n.entries) {
      const f = findExpression(e.value, pathJoin(path, e.key));
      if (f) return f;
    }
  }
  if (n.kind === 'array') {
    for (let i = 0; i < n.items.length; i++) {
      const f = findExpression(n.items[i]!, pathJoin(path, i));
      if (f) return f;
    }
  }
  return undefined;
}

function crossCheck(checked: CheckedBackend[], diagnostics: Diagnostic[]): void {
  const byId = new Map<string, CheckedBackend>();
  const at = (b: CheckedBackend, offset: number) => ({ file: b.candidate.source.file, ...b.candidate.source.positionAt(offset) });
  for (const b of checked) {
    const prev = byId.get(b.candidate.id);
    if (prev) {
      const p = at(prev, prev.candidate.offset);
      diagnostics.push({
        severity: 'error',
        code: 'backend/duplicate-id',
        message: `backend '${b.candidate.id}' is defined twice (first at ${p.file}:${p.line}:${p.column})`,
        ...at(b, b.candidate.offset),
        jsonPath: b.candidate.path,
        hint: 'backend ids are unique per service; rename or remove one',
      });
      b.hasErrors = true;
      continue;
    }
    byId.set(b.candidate.id, b);
  }
  const singles = [...byId.values()].filter((b) => b.type === 'Single').map((b) => b.candidate.id);
  for (const b of checked) {
    if (b.type !== 'Pool') continue;
    for (const ref of b.memberRefs) {
      const target = byId.get(ref.backendId);
      if (!target) {
        diagnostics.push({
          severity: 'error',
          code: 'backend/pool-member-missing',
          message: `pool '${b.candidate.id}' references backend '${ref.backendId}', which is not defined`,
          ...at(b, ref.offset),
          jsonPath: ref.path,
          hint: singles.length
            ? `defined single backends: ${singles.slice(0, 12).join(', ')}${singles.length > 12 ? ', …' : ''}`
            : 'no single backends are defined; add them (in any loaded file)',
        });
        b.hasErrors = true;
      } else if (target.type === 'Pool') {
        diagnostics.push({
          severity: 'error',
          code: 'backend/pool-nested',
          message: `pool '${b.candidate.id}' lists '${ref.backendId}', which is itself a pool; pools cannot contain pools`,
          ...at(b, ref.offset),
          jsonPath: ref.path,
          hint: 'list the single backends of that pool directly',
        });
        b.hasErrors = true;
      } else if (target.hasErrors) {
        b.hasErrors = true; // the member's own errors are reported; the pool cannot be built without it
      }
    }
  }
}

/** Whether parsed JSON looks like backend definitions (for `validate` content detection). */
export function isBackendDocument(json: unknown): boolean {
  const isResource = (x: unknown): boolean => {
    if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
    const o = x as Record<string, unknown>;
    if (typeof o.type === 'string') return o.type.toLowerCase() === BACKENDS_TYPE;
    const p = o.properties;
    if (!p || typeof p !== 'object') return false;
    const pp = p as Record<string, unknown>;
    return 'url' in pp || 'pool' in pp || 'circuitBreaker' in pp || pp.type === 'Pool' || pp.type === 'Single';
  };
  const inTemplate = (t: unknown): boolean => {
    if (!t || typeof t !== 'object') return false;
    const res = (t as Record<string, unknown>).resources;
    const list = Array.isArray(res) ? res : res && typeof res === 'object' ? Object.values(res) : [];
    return list.some((r) => {
      if (!r || typeof r !== 'object') return false;
      const o = r as Record<string, unknown>;
      const type = typeof o.type === 'string' ? o.type.toLowerCase() : '';
      if (type === BACKENDS_TYPE) return true;
      if (type === SERVICE_TYPE)
        return (
          Array.isArray(o.resources) &&
          o.resources.some((c) => typeof (c as { type?: unknown })?.type === 'string' && /(^|\/)backends$/i.test((c as { type: string }).type))
        );
      if (type === DEPLOYMENTS_TYPE) return inTemplate((o.properties as { template?: unknown } | undefined)?.template);
      return false;
    });
  };
  if (Array.isArray(json)) return json.length > 0 && json.every(isResource);
  if (!json || typeof json !== 'object') return false;
  const o = json as Record<string, unknown>;
  if (Array.isArray(o.backends)) return true;
  if (Array.isArray(o.value)) return o.value.length > 0 && o.value.every(isResource);
  if ('resources' in o) return inTemplate(o);
  return isResource(o);
}
