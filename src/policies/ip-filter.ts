import { isIP } from 'node:net';
import type { PolicyDefinition, ValueGetter } from '../engine/policy-sdk.js';
import { PolicyError, childElements, gatewayErrorResponse } from '../engine/policy-sdk.js';

/** An IP address as a family and a 128-bit number (IPv4 in the low 32 bits), for range comparisons. */
interface Ip {
  v: 4 | 6;
  n: bigint;
}

/** Parses IPv4 / IPv6 text; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4, as callers behind dual-stack sockets appear. */
export function parseIp(text: string): Ip | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  const fam = isIP(t);
  if (fam === 4) return { v: 4, n: t.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n) };
  if (fam !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  if (mapped) return parseIp(mapped[1]!);
  // Expand an embedded IPv4 tail into two hextets, then "::".
  let s = t;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = Number(parseIp(v4[1]!)!.n);
    s = `${s.slice(0, -v4[1]!.length)}${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  return { v: 6, n: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

type Matcher = (ip: Ip, ctx: Parameters<ValueGetter<string>>[0]) => boolean;

/**
 * `<ip-filter action="allow|forbid">` with `<address>` and `<address-range from to>`: allow lets only the listed callers
 * in, forbid blocks them. Denials are 403 (status SILENT in the docs; the Microsoft toolkit uses 403) with APIM's
 * reasons CallerIpNotAllowed / CallerIpBlocked / FailedToParseCallerIP (docs/apim-behaviour.md: Errors and LastError reasons).
 */
export const ipFilter: PolicyDefinition = {
  name: 'ip-filter',
  summary: 'Allows or forbids callers by IP address and address range (IPv4 and IPv6).',
  support: 'full',
  sections: ['inbound'],
  attributes: [{ name: 'action', required: true, expressions: true, kind: 'enum', values: ['allow', 'forbid'] }],
  elements: [
    { name: 'address', text: { expressions: true, required: true } },
    {
      name: 'address-range',
      attributes: [
        { name: 'from', required: true, expressions: false },
        { name: 'to', required: true, expressions: false },
      ],
    },
  ],
  compile(el, cx) {
    const action = cx.string(el, 'action')!;
    const matchers: Matcher[] = [];
    const addresses = childElements(el, 'address');
    const ranges = childElements(el, 'address-range');
    if (addresses.length + ranges.length === 0) {
      cx.diagnostics.error(el.source, el.start, 'policy/missing-element', '<ip-filter> needs at least one <address> or <address-range>');
    }
    for (const a of addresses) {
      const span = a.children.find((c) => c.kind === 'text');
      const get = cx.text(a);
      if (!get || !span || span.kind !== 'text') continue;
      if (span.text.text.trim().startsWith('@')) {
        // An expression: parsed per request; an unparsable value matches nothing.
        matchers.push((ip, ctx) => {
          const want = parseIp(get(ctx));
          return want !== null && want.v === ip.v && want.n === ip.n;
        });
        continue;
      }
      const text = get({} as Parameters<ValueGetter<string>>[0]);
      const want = parseIp(text);
      if (!want) {
        cx.diagnostics.error(
          a.source,
          a.start,
          'policy/bad-address',
          `"${text.trim()}" is not an IP address`,
          'write one IPv4 or IPv6 address; use <address-range from to> for ranges',
        );
        continue;
      }
      matchers.push((ip) => ip.v === want.v && ip.n === want.n);
    }
    for (const r of ranges) {
      const fromText = cx.attributeSpan(r, 'from')?.text ?? '';
      const toText = cx.attributeSpan(r, 'to')?.text ?? '';
      const from = parseIp(fromText);
      const to = parseIp(toText);
      if (!from || !to) {
        cx.diagnostics.error(
          r.source,
          cx.offsetOf(r, from ? 'to' : 'from'),
          'policy/bad-address',
          `"${(from ? toText : fromText).trim()}" is not an IP address`,
          'from and to are IPv4 or IPv6 addresses',
        );
        continue;
      }
      if (from.v !== to.v || from.n > to.n) {
        cx.diagnostics.error(
          r.source,
          r.start,
          'policy/bad-address',
          from.v !== to.v ? 'the range mixes IPv4 and IPv6 addresses' : `the range starts after it ends (${fromText} > ${toText})`,
          'from and to are of the same family, from <= to',
        );
        continue;
      }
      matchers.push((ip) => ip.v === from.v && ip.n >= from.n && ip.n <= to.n);
    }
    return (ctx) => {
      const ip = parseIp(ctx.request.ipAddress);
      if (!ip)
        throw new PolicyError(
          'ip-filter',
          'FailedToParseCallerIP',
          'Failed to establish IP address for the caller. Access denied.',
          gatewayErrorResponse(403, 'Forbidden'),
        );
      const listed = matchers.some((m) => m(ip, ctx));
      const allow = action(ctx).trim().toLowerCase() === 'allow';
      if (allow && !listed) {
        throw new PolicyError(
          'ip-filter',
          'CallerIpNotAllowed',
          `Caller IP address ${ctx.request.ipAddress} is not allowed. Access denied.`,
          gatewayErrorResponse(403, 'Forbidden'),
        );
      }
      if (!allow && listed)
        throw new PolicyError('ip-filter', 'CallerIpBlocked', 'Caller IP address is blocked. Access denied.', gatewayErrorResponse(403, 'Forbidden'));
      return 'continue';
    };
  },
};
