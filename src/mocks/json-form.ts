import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { checkScript, MOCK_SCRIPT_LIMITS, type AoaiOptions, type MockScript, type MockStep, type RateLimitSpec } from './script.js';
import { parseMockScript } from './text-form.js';
import * as generated from '../generated/mock-script-schema.js';

// schemas/mock-script.schema.json, precompiled by ajv into src/generated/ (src/cli/generate-validators.ts).
const validators = { script: generated.script as unknown as ValidateFunction, steps: generated.steps as unknown as ValidateFunction };

function getValidators(): { script: ValidateFunction; steps: ValidateFunction } {
  return validators;
}

/** Friendly "allowed" text for the places where the schema offers alternatives. */
const ALTERNATIVES: Record<string, string> = {
  times: 'a whole number ≥ 1, or "forever"',
  then: '"repeat-last", "cycle", or a status 200-599',
  aoai: 'true, or an object with model, content, completionTokens, region, quota',
  quota: 'an object with tpm, rpm (whole numbers ≥ 1) and deployments (deployment name → { tpm, rpm })',
  rateLimitHeaders: 'true, or an object with requests and tokens (per-minute limits, whole numbers ≥ 1)',
};

/**
 * A mock script from configuration JSON: `{ steps: [...], then? }`, a bare array of steps, or a string in the text
 * form. Problems are reported with JSON paths (`$.steps[1].status`) under `origin` (the config file name).
 */
export function mockScriptFromJson(json: unknown, origin?: string, basePath = '$'): { script?: MockScript; diagnostics: Diagnostic[] } {
  if (typeof json === 'string') {
    // Text form inside JSON: positions are columns within the string, so name the JSON path in the origin.
    return parseMockScript(json, origin ? `${origin} ${basePath}` : basePath);
  }
  const where = (path: string): Pick<Diagnostic, 'file' | 'jsonPath'> => ({ ...(origin ? { file: origin } : {}), jsonPath: path });
  const isArray = Array.isArray(json);
  const steps: unknown = isArray ? json : typeof json === 'object' && json !== null ? (json as { steps?: unknown }).steps : undefined;
  if (Array.isArray(steps) && steps.length > MOCK_SCRIPT_LIMITS.steps) {
    return {
      diagnostics: [
        {
          severity: 'error',
          code: 'mock/too-large',
          message: `the script has ${steps.length} steps; at most ${MOCK_SCRIPT_LIMITS.steps} are accepted`,
          hint: 'use "times" to repeat a step instead of writing it many times',
          ...where(isArray ? basePath : `${basePath}.steps`),
        },
      ],
    };
  }
  if (!isArray && (typeof json !== 'object' || json === null)) {
    return {
      diagnostics: [
        {
          severity: 'error',
          code: 'mock/schema',
          message: `a mock script must be an object, an array of steps or a text-form string, not ${describeType(json)}`,
          hint: 'e.g. {"steps":[{"status":429,"times":3,"retryAfter":7},{"status":200}]} or "429x3 retry-after=7; 200"',
          ...where(basePath),
        },
      ],
    };
  }
  const v = getValidators()[isArray ? 'steps' : 'script'];
  if (!v(json)) return { diagnostics: ajvToDiagnostics(v.errors ?? [], basePath, where) };

  const raw = (isArray ? { steps: json } : json) as { steps: Array<Record<string, unknown>>; then?: MockScript['then'] };
  const script: MockScript = { steps: raw.steps.map(normalizeStep), ...(raw.then !== undefined ? { then: raw.then } : {}) };
  const stepsPath = isArray ? basePath : `${basePath}.steps`;
  const diagnostics = checkScript(
    script,
    (i, field) => where(`${stepsPath}[${i}]${field ? `.${field}` : ''}`),
    () => where(isArray ? basePath : `${basePath}.then`),
  );
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { script, diagnostics };
}

function normalizeStep(s: Record<string, unknown>): MockStep {
  const { times, aoai, rateLimitHeaders, ...rest } = s;
  const step = { ...(rest as Omit<MockStep, 'times'>), times: (times as MockStep['times'] | undefined) ?? 1 } as MockStep;
  if (aoai !== undefined) step.aoai = aoai === true ? {} : { ...(aoai as AoaiOptions) };
  if (rateLimitHeaders !== undefined) step.rateLimitHeaders = rateLimitHeaders === true ? {} : { ...(rateLimitHeaders as RateLimitSpec) };
  return step;
}

function ajvToDiagnostics(errors: ErrorObject[], basePath: string, where: (p: string) => Pick<Diagnostic, 'file' | 'jsonPath'>): Diagnostic[] {
  // Errors under an anyOf: drop the branch mismatches of the value's own type so what remains is the useful part
  // (an unknown key inside the object branch, a minimum); when nothing remains, report the anyOf once.
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  // schemaPath is relative to the $ref'd definition, so the same anyOf appears once per step: match the instance too.
  const inside = (e: ErrorObject, a: ErrorObject) =>
    e !== a && e.schemaPath.startsWith(`${a.schemaPath}/`) && (e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`));
  const kept: ErrorObject[] = [];
  for (const e of errors) {
    // propertyNames repeats what its own pattern error already said.
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'propertyNames') continue;
    const owner = anyOfs.find((a) => inside(e, a));
    if (owner && e.instancePath === owner.instancePath && (e.keyword === 'type' || e.keyword === 'enum')) continue;
    kept.push(e);
  }
  for (const a of anyOfs) {
    // A $ref'd definition reports schema paths of its own, so a deeper instance path also counts as "inside".
    if (!kept.some((e) => inside(e, a)) && !kept.some((e) => e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`)))
      kept.push(a);
  }
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    const path = basePath + pointerToPath(e.instancePath);
    const field = lastSegment(e.instancePath);
    let message: string;
    let hint: string | undefined;
    const alt = field !== undefined ? ALTERNATIVES[field] : undefined;
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        message = `unknown property "${extra}"`;
        const props = Object.keys((e.parentSchema as { properties?: Record<string, unknown> }).properties ?? {}).filter((p) => p !== '$schema');
        hint = `allowed: ${props.join(', ')}`;
        out.push({ severity: 'error', code: 'mock/schema', message, hint, ...where(`${path}.${extra}`) });
        continue;
      }
      case 'pattern': {
        // ajv puts the offending key of a propertyNames check on the error itself.
        const name = (e as ErrorObject & { propertyName?: string }).propertyName;
        if (name === undefined) {
          message = `${field ?? 'value'} must match ${String((e.params as { pattern: string }).pattern)} (got ${JSON.stringify(e.data)})`;
          break;
        }
        out.push({
          severity: 'error',
          code: 'mock/schema',
          message: `invalid ${field === 'deployments' ? 'deployment name' : 'name'} ${JSON.stringify(name)}`,
          hint: 'allowed: letters, digits, ".", "_", "-"',
          ...where(`${path}${pointerToPath(`/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`)}`),
        });
        continue;
      }
      case 'minProperties':
        message = `${field ?? 'value'} is empty`;
        hint = alt ? `allowed: ${alt}` : undefined;
        break;
      case 'required':
        message = `missing required property "${String((e.params as { missingProperty: string }).missingProperty)}"`;
        break;
      case 'type':
        message = `${field ?? 'value'} must be ${String((e.params as { type: string }).type)}, not ${describeType(e.data)}`;
        hint = alt;
        break;
      case 'enum':
        message = `${field ?? 'value'} has the unsupported value ${JSON.stringify(e.data)}`;
        hint = `allowed: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')}`;
        break;
      case 'minimum':
      case 'maximum':
      case 'minItems':
      case 'minLength':
        message = `${field ?? 'value'} ${e.message ?? 'is out of range'} (got ${JSON.stringify(e.data)})`;
        hint = alt ?? (field === 'status' ? 'allowed: 200-599' : undefined);
        break;
      case 'anyOf':
      case 'oneOf':
        message = `${field ?? 'value'} has the unsupported value ${JSON.stringify(e.data)}`;
        hint = alt ? `allowed: ${alt}` : undefined;
        break;
      default:
        message = `${field ?? 'value'} ${e.message ?? 'is invalid'}`;
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ severity: 'error', code: 'mock/schema', message, ...(hint ? { hint } : {}), ...where(path) });
  }
  return out;
}

function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_$][\w$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
    .join('');
}

function lastSegment(pointer: string): string | undefined {
  const segs = pointer.split('/').slice(1);
  for (let i = segs.length - 1; i >= 0; i--) if (!/^\d+$/.test(segs[i]!)) return segs[i];
  return undefined;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
