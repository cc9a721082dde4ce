import type { OperationDefinition } from './definition.js';

/**
 * An operation's URL template compiled into a matcher: `/deployments/{deployment-id}/chat/completions` matches a
 * path relative to the API suffix and yields its parameters (reference: APIM operation matching). `/*` matches any path.
 * Query parameters in the template (`?api-version={v}`) must be present and are captured too.
 */
export interface CompiledTemplate {
  readonly method: string;
  readonly template: string;
  /** Literal segments count, to prefer the most specific template. */
  readonly specificity: number;
  match(method: string, path: string, query: ReadonlyMap<string, readonly string[]> | { get(n: string): string[] | undefined }): Map<string, string> | null;
}

export function compileTemplate(op: OperationDefinition): CompiledTemplate {
  const method = op.method.toUpperCase();
  const [pathPart = '/', queryPart = ''] = op.urlTemplate.split('?', 2);
  const segments = pathPart.split('/').filter((s) => s !== '');
  const names: string[] = [];
  let specificity = 0;
  let wildcard = false;
  const pattern = segments
    .map((seg, i) => {
      if (seg === '*' && i === segments.length - 1) {
        wildcard = true;
        return '(?:/.*)?';
      }
      let literal = true;
      const re = seg.replace(/\{\*?([^{}]+)\}|([^{}]+)/g, (m, name: string | undefined, lit: string | undefined) => {
        if (name !== undefined) {
          literal = false;
          names.push(name);
          return m.startsWith('{*') ? '(.*)' : '([^/]+)';
        }
        return escapeRegExp(lit ?? '');
      });
      if (literal) specificity += 2;
      else specificity += 1;
      return `/${re}`;
    })
    .join('');
  const regex = new RegExp(`^${pattern}${wildcard ? '' : '/?'}$`, 'i');
  const queryParams: Array<{ name: string; param: string | null; literal: string | null }> = [];
  for (const pair of queryPart.split('&').filter(Boolean)) {
    const [n = '', v = ''] = pair.split('=', 2);
    const m = /^\{([^{}]+)\}$/.exec(v);
    queryParams.push({ name: n, param: m ? m[1]! : null, literal: m ? null : v });
  }
  specificity += queryParams.length;
  return {
    method,
    template: op.urlTemplate,
    specificity,
    match(reqMethod, path, query) {
      if (method !== '*' && method !== reqMethod.toUpperCase()) return null;
      const m = regex.exec(path === '' ? '/' : path);
      if (!m) return null;
      const params = new Map<string, string>();
      names.forEach((n, i) => params.set(n, safeDecode(m[i + 1] ?? '')));
      for (const q of queryParams) {
        const v = query.get(q.name)?.[0];
        if (v === undefined) return null;
        if (q.literal !== null && q.literal !== v) return null;
        if (q.param) params.set(q.param, v);
      }
      return params;
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
