import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { NextFunction, Request, Response } from 'express';

/**
 * Who may use the admin API (/_emulator/*): it reads traces, resets state, changes mock scripts and moves the clock,
 * so it is guarded against the three ways a local dev tool is usually reached by someone else (SECURITY.md):
 *
 * - another machine: a token is required when the admin API listens beyond loopback;
 * - a web page in the developer's browser (CSRF): state-changing requests must be JSON or carry CSRF_HEADER, which a
 *   page on another origin cannot send without a CORS preflight the emulator never grants;
 * - DNS rebinding (a page whose own name resolves to 127.0.0.1): the Host header must name the machine (an IP address,
 *   localhost, the bound host or this machine's name), never a foreign domain.
 */

/** The custom header that marks a state-changing request as not coming from a cross-origin page. */
export const CSRF_HEADER = 'X-Emulator-Request';

/** Environment variable read for the token when --admin-token is not given (keeps it out of the process list). */
export const ADMIN_TOKEN_ENV = 'APIM_EMULATOR_ADMIN_TOKEN';

export interface AdminSecurityOptions {
  /** Bearer token every admin request must carry; undefined: none required. */
  token?: string;
  /** The host name or address the admin API listens on (an allowed Host header value). */
  boundHost: string;
  /** Further allowed Host names. */
  allowedHosts?: readonly string[];
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h.endsWith('.localhost');
}

/** Why the admin API cannot start as configured, or null when it can. */
export function adminStartProblem(host: string, token: string | undefined, separateListener: boolean): string | null {
  if (token !== undefined && token.length < 16) {
    return `the admin token must be at least 16 characters (got ${token.length}); generate one, e.g. with \`openssl rand -hex 16\``;
  }
  if (token === undefined && !isLoopbackHost(host)) {
    const where = separateListener ? `--admin-host ${host}` : `--host ${host} (the admin API shares the gateway's listener)`;
    return `the admin API would listen beyond this machine (${where}) without a token: anyone who reaches it could read traces, reset state and change mocks. Give --admin-token (or ${ADMIN_TOKEN_ENV}), or keep the admin API local with --admin-host 127.0.0.1 --admin-port <port>`;
  }
  return null;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Custom headers any of which marks a same-origin caller: ours, and the one the web console sends (docs/console.md). */
const CUSTOM_HEADERS = [CSRF_HEADER.toLowerCase(), 'x-emulator-console'];

/** Express middleware for the admin prefix: Host check, token, CSRF rule, in that order. */
export function adminGuard(o: AdminSecurityOptions): (req: Request, res: Response, next: NextFunction) => void {
  const allowed = new Set([
    'localhost',
    o.boundHost.replace(/^\[|\]$/g, '').toLowerCase(),
    hostname().toLowerCase(),
    ...(o.allowedHosts ?? []).map((h) => h.toLowerCase()),
  ]);
  const expected = o.token === undefined ? null : digest(o.token);
  return (req, res, next) => {
    const host = hostOf(req.headers.host);
    if (host === null || !(isIP(host) !== 0 || allowed.has(host) || host.endsWith('.localhost'))) {
      deny(res, 403, `the admin API answers only requests addressed to this machine; Host "${String(req.headers.host ?? '')}" is not one of its names`, {
        hint: `use http://127.0.0.1:<port> or http://localhost:<port>; allowed names: IP addresses, ${[...allowed].join(', ')}`,
      });
      return;
    }
    if (expected) {
      const given = bearer(req.headers.authorization);
      if (given === null || !timingSafeEqual(digest(given), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="apim-emulator admin"');
        deny(res, 401, given === null ? 'the admin API needs a token: send Authorization: Bearer <admin token>' : 'the admin token is wrong');
        return;
      }
    }
    if (STATE_CHANGING.has(req.method) && !isJson(req.headers['content-type']) && !CUSTOM_HEADERS.some((h) => req.headers[h] !== undefined)) {
      deny(
        res,
        403,
        `${req.method} on the admin API must send a JSON body (Content-Type: application/json) or the header ${CSRF_HEADER}: 1, so a web page on another site cannot make the request`,
        {
          hint: `e.g. curl -X ${req.method} -H '${CSRF_HEADER}: 1' ...`,
        },
      );
      return;
    }
    next();
  };
}

function deny(res: Response, status: number, error: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error, ...extra });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function bearer(header: string | undefined): string | null {
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

function isJson(contentType: string | undefined): boolean {
  return /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType ?? '');
}

/** The host name of a Host header, lower-cased, without port or IPv6 brackets; null when absent or malformed. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([^:[\]/\s@]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]! : null;
}
