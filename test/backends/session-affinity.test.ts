import { describe, expect, it } from 'vitest';
import { type BackendDefinition, BackendRegistry, type BackendSelection, loadBackends, requestCookie } from '../../src/backends/index.js';
import { decodeSession, encodeSession } from '../../src/backends/session.js';
import { VirtualClock } from '../../src/clock.js';
import { formatDiagnosticLine } from '../../src/diagnostics/diagnostic.js';
import { HeaderMap } from '../../src/engine/headers.js';

type Member = { name: string; priority?: number; weight?: number };

/** Singles with a count-1 429 breaker (PT1M), a pool over them with session affinity (cookie `name`), and a plain pool. */
function defs(members: Member[], cookieName = 'SessionId'): BackendDefinition[] {
  const services = members.map((m) => ({
    id: `/backends/${m.name}`,
    ...(m.priority !== undefined ? { priority: m.priority } : {}),
    ...(m.weight !== undefined ? { weight: m.weight } : {}),
  }));
  const backends = [
    ...members.map((m) => ({
      name: m.name,
      apiVersion: '2025-03-01-preview',
      properties: {
        url: `https://${m.name}.example.com`,
        protocol: 'http',
        circuitBreaker: {
          rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M' }],
        },
      },
    })),
    {
      name: 'sticky',
      apiVersion: '2025-03-01-preview',
      properties: { type: 'Pool', pool: { services, sessionAffinity: { sessionId: { source: 'Cookie', name: cookieName } } } },
    },
    { name: 'plain', apiVersion: '2025-03-01-preview', properties: { type: 'Pool', pool: { services } } },
  ];
  const r = loadBackends([{ file: 'b.json', text: JSON.stringify({ backends }) }]);
  expect(r.diagnostics.map(formatDiagnosticLine)).toEqual([]);
  return r.backends;
}

type Ok = Extract<BackendSelection, { ok: true }>;

function ok(s: BackendSelection): Ok {
  if (!s.ok) throw new Error(`expected a member, got ${s.why}`);
  return s;
}

/** A client with a one-cookie jar: sends its cookie, stores whatever the selection asks to set. */
class Client {
  cookie: string | undefined;
  constructor(
    private readonly reg: BackendRegistry,
    private readonly pool = 'sticky',
  ) {}

  send(): Ok {
    const headers = new HeaderMap(this.cookie ? [['Cookie', `theme=dark; ${this.cookie}`]] : []);
    const s = ok(this.reg.select(this.pool, headers));
    if (s.session) this.cookie = s.session.setCookie.split(';')[0];
    return s;
  }
}

const trip = (reg: BackendRegistry, id: string) => reg.report(id, { status: 429 });

describe('pool session affinity (sessionAffinity.sessionId)', () => {
  it('a new session gets a cookie for the member normal selection chose; echoing it pins that member', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }, { name: 'c' }]), new VirtualClock());
    const first = new Client(reg);
    const s1 = first.send();
    expect(s1.memberId).toBe('a');
    expect(s1.session).toMatchObject({ cookieName: 'SessionId', changed: true });
    expect(s1.session!.setCookie).toBe(`SessionId=${s1.session!.value}; Path=/; HttpOnly`);
    expect(s1.session!.value).toMatch(/^[A-Za-z0-9_-]{11}[0-9a-z]+$/);

    // Other clients without the cookie keep the round-robin going; the pinned one stays on a.
    const second = new Client(reg);
    expect(second.send().memberId).toBe('b');
    for (let i = 0; i < 20; i++) {
      const s = first.send();
      expect(s.memberId).toBe('a');
      expect(s.session).toEqual({ ...s1.session, changed: false });
      expect(s.why).toBe('pool sticky: session affinity: pinned to a');
    }
    expect(second.send().memberId).toBe('b');
    // Pinned selections do not move the round-robin: the next new session continues where it left off.
    expect(new Client(reg).send().memberId).toBe('c');
    const pool = reg.state().find((x) => x.id === 'sticky')!;
    expect(pool.sessionAffinity).toEqual({ cookieName: 'SessionId', assigned: 3, pinned: 21, repinned: 0, unrecognized: 0 });
    expect(pool.members!.map((m) => m.selections)).toEqual([21, 2, 1]);
  });

  it('without a cookie every request is a new session, round-robin, each with its own value', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }]), new VirtualClock());
    const sels = Array.from({ length: 4 }, () => ok(reg.select('sticky', new HeaderMap())));
    expect(sels.map((s) => s.memberId)).toEqual(['a', 'b', 'a', 'b']);
    expect(new Set(sels.map((s) => s.session!.value)).size).toBe(4);
    // No request view at all behaves the same.
    expect(ok(reg.select('sticky')).session?.changed).toBe(true);
  });

  it('a pinned member that trips falls through to normal selection and the session moves, with a new value', () => {
    const clock = new VirtualClock();
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }, { name: 'c' }]), clock);
    new Client(reg).send(); // a
    const c = new Client(reg);
    expect(c.send().memberId).toBe('b');
    const before = c.cookie;
    trip(reg, 'b');
    const moved = c.send();
    expect(moved.memberId).toBe('c');
    expect(moved.session!.changed).toBe(true);
    expect(moved.why).toBe('pool sticky: session member b is open: reselected; priority 0, round-robin over 2 → c');
    expect(c.cookie).not.toBe(before);
    // Re-pinned to c: stays there even after b comes back.
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) expect(c.send().memberId).toBe('c');
    expect(reg.state().find((x) => x.id === 'sticky')!.sessionAffinity).toMatchObject({ assigned: 2, repinned: 1, pinned: 3 });
  });

  it('a session stays on its lower-priority member after the higher priority group comes back', () => {
    const clock = new VirtualClock();
    const reg = new BackendRegistry(
      defs([
        { name: 'primary', priority: 1 },
        { name: 'spare', priority: 2 },
      ]),
      clock,
    );
    trip(reg, 'primary');
    const c = new Client(reg);
    expect(c.send().memberId).toBe('spare');
    clock.advance(60_000);
    expect(ok(reg.select('sticky')).memberId).toBe('primary'); // new sessions go to priority 1 again
    expect(c.send().memberId).toBe('spare');
  });

  it('every member open: unavailable, no session; the cookie works again once its member closes', () => {
    const clock = new VirtualClock();
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }]), clock);
    const c = new Client(reg);
    expect(c.send().memberId).toBe('a');
    trip(reg, 'a');
    trip(reg, 'b');
    const s = reg.select('sticky', new HeaderMap([['Cookie', c.cookie!]]));
    expect(s.ok).toBe(false);
    expect('session' in s).toBe(false);
    clock.advance(60_000);
    expect(c.send()).toMatchObject({ memberId: 'a', session: { changed: false } });
  });

  it('a value from another pool, a tampered one or garbage starts a new session (counted as unrecognized)', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }]), new VirtualClock());
    const issued = ok(reg.select('sticky')).session!.value; // a
    const tampered = issued.slice(0, 10) + (issued[10] === 'A' ? 'B' : 'A') + issued.slice(11);
    const foreign = encodeSession('other-pool', 0, 'a', 1);
    for (const v of [tampered, foreign, 'x', '"zz"', 'AAAAAAAAAAA!!']) {
      const s = ok(reg.select('sticky', new HeaderMap([['Cookie', `SessionId=${v}`]])));
      expect(s.session!.changed).toBe(true);
      expect(s.why).toContain('session cookie SessionId was not issued by this pool: new session; ');
    }
    expect(reg.state().find((x) => x.id === 'sticky')!.sessionAffinity).toMatchObject({ unrecognized: 5, assigned: 6 });
  });

  it('values decode without registry state: a fresh registry (restart) honours them, and reset() keeps them', () => {
    const members = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    const reg = new BackendRegistry(defs(members), new VirtualClock());
    ok(reg.select('sticky'));
    const onB = ok(reg.select('sticky')).session!.value;
    expect(decodeSession('sticky', ['a', 'b', 'c'], onB)).toBe(1);
    expect(decodeSession('sticky', ['a', 'x', 'c'], onB)).toBeUndefined();
    const restarted = new BackendRegistry(defs(members), new VirtualClock());
    expect(ok(restarted.select('sticky', new HeaderMap([['Cookie', `SessionId=${onB}`]]))).memberId).toBe('b');
    reg.reset();
    expect(reg.state().find((x) => x.id === 'sticky')!.sessionAffinity).toEqual({
      cookieName: 'SessionId',
      assigned: 0,
      pinned: 0,
      repinned: 0,
      unrecognized: 0,
    });
    expect(ok(reg.select('sticky', new HeaderMap([['Cookie', `SessionId=${onB}`]]))).memberId).toBe('b');
  });

  it('the same backend listed twice: the value pins the list position it was issued for', () => {
    const reg = new BackendRegistry(
      loadBackends([
        {
          file: 'b.json',
          text: JSON.stringify([
            { name: 'a', properties: { url: 'https://a.example.com' } },
            { name: 'b', properties: { url: 'https://b.example.com' } },
            {
              name: 'p',
              properties: { type: 'Pool', pool: { services: [{ id: 'a' }, { id: 'b' }, { id: 'a' }], sessionAffinity: { sessionId: { name: 'S' } } } },
            },
          ]),
        },
      ]).backends,
      new VirtualClock(),
    );
    const values = [0, 1, 2].map(() => ok(reg.select('p')).session!.value);
    for (const v of values) ok(reg.select('p', new HeaderMap([['Cookie', `S=${v}`]])));
    expect(
      reg
        .state()
        .find((x) => x.id === 'p')!
        .members!.map((m) => m.selections),
    ).toEqual([2, 2, 2]);
  });

  it('pools without sessionAffinity and single backends ignore cookies and set none', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }]), new VirtualClock());
    const sticky = ok(reg.select('sticky')).session!.setCookie.split(';')[0]!;
    const headers = new HeaderMap([['Cookie', sticky]]);
    const plain = [0, 1, 2].map(() => ok(reg.select('plain', headers)));
    expect(plain.map((s) => s.memberId)).toEqual(['a', 'b', 'a']);
    expect(plain.every((s) => s.session === undefined)).toBe(true);
    expect(ok(reg.select('a', headers)).session).toBeUndefined();
    expect(reg.state().find((x) => x.id === 'plain')!.sessionAffinity).toBeUndefined();
  });

  it('the cookie name comes from sessionId.name (case-sensitive)', () => {
    const reg = new BackendRegistry(defs([{ name: 'a' }, { name: 'b' }], 'Pin'), new VirtualClock());
    const v = ok(reg.select('sticky')).session!;
    expect(v.setCookie.startsWith(`Pin=${v.value};`)).toBe(true);
    expect(ok(reg.select('sticky', new HeaderMap([['Cookie', `pin=${v.value}`]]))).memberId).toBe('b');
    expect(ok(reg.select('sticky', new HeaderMap([['Cookie', `Pin=${v.value}`]]))).memberId).toBe('a');
  });
});

describe('requestCookie', () => {
  it('finds the named cookie across Cookie lines, first occurrence, quotes removed', () => {
    expect(requestCookie(['a=1; SessionId=xyz; b=2'], 'SessionId')).toBe('xyz');
    expect(requestCookie(['a=1', 'SessionId="q v"'], 'SessionId')).toBe('q v');
    expect(requestCookie(['SessionId=first; SessionId=second'], 'SessionId')).toBe('first');
    // A whole Set-Cookie value copied into Cookie by a policy still yields the value.
    expect(requestCookie(['SessionId=abc; Path=/; HttpOnly'], 'SessionId')).toBe('abc');
    expect(requestCookie(['XSessionId=abc; SessionIdX=def'], 'SessionId')).toBeUndefined();
    expect(requestCookie(['sessionid=abc'], 'SessionId')).toBeUndefined();
    expect(requestCookie(undefined, 'SessionId')).toBeUndefined();
    expect(requestCookie(['SessionId='], 'SessionId')).toBe('');
  });
});
