import type { Clock } from '../clock.js';
import { CircuitBreaker } from './breaker.js';
import { isPromise, type StateStore } from '../state/store.js';
import { formatTimeSpan } from './duration.js';
import { decodeSession, encodeSession, requestCookie, setCookieValue } from './session.js';
import type {
  BackendDefinition,
  BackendSelection,
  BackendStateSnapshot,
  BreakerOutcome,
  CircuitBreakerEvent,
  SelectionCredentials,
  SessionAffinityCounts,
  SessionAssignment,
  SessionSource,
} from './types.js';

interface SingleEntry {
  kind: 'single';
  def: BackendDefinition;
  breaker: CircuitBreaker | undefined;
  credentials: SelectionCredentials;
  selections: number;
  /** `backend x` text for traces, built once. */
  whyText: string;
}

interface PoolMemberRt {
  single: SingleEntry;
  /** Position in the pool's services list (session values encode it: a backend may be listed twice). */
  index: number;
  /** Effective weight (null → 1). */
  weight: number;
  /** Smooth weighted round-robin running weight. */
  current: number;
  selections: number;
  /** Scratch flag for the selection in progress. */
  available: boolean;
}

interface PriorityGroup {
  priority: number;
  members: PoolMemberRt[];
  /** "round-robin over 2" / "weighted 50/50", for the all-available case. */
  mode: string;
}

interface PoolEntry {
  kind: 'pool';
  def: BackendDefinition;
  groups: PriorityGroup[];
  members: PoolMemberRt[];
  unavailable: number;
  affinity: PoolAffinity | undefined;
}

interface PoolAffinity {
  counts: SessionAffinityCounts;
  memberIds: string[];
  /** Session values seen or issued → member position, so a returning client costs a map lookup, not hashing. */
  known: Map<string, number>;
}

/** Bound on PoolAffinity.known; when full it is cleared (values still decode, just by hashing). */
const KNOWN_SESSIONS_MAX = 4096;

type Entry = SingleEntry | PoolEntry;

export interface BackendRegistryOptions {
  /**
   * Whether a `BackendConnectionFailure` listed in a rule's errorReasons counts as a failure. Default true; one third
   * party reports that real APIM does not count connection failures (docs/apim-behaviour.md: Pools, breakers and backend URLs), set false to emulate that.
   */
  connectionFailuresTrip?: boolean;
  /** state.shareBreakers: every breaker's window and trips live in this (shared) store; see BreakerSharing. */
  sharedBreakers?: StateStore;
}

/**
 * Runtime state of every backend: circuit breakers and pool selectors, all on the injected Clock. The only place breaker
 * state changes. select() is on the request hot path and allocates little beyond the returned selection.
 */
export class BackendRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(e: CircuitBreakerEvent) => void>();
  private eventSeq = 0;
  /** state.shareBreakers: the store and the entries by shared breaker key. */
  private shared: { store: StateStore; byKey: Map<string, SingleEntry> } | undefined;
  /** Session numbers for affinity cookies; never reset, so values stay unique for the registry's lifetime. */
  private sessionSeq = 0;

  constructor(
    backends: BackendDefinition[],
    private readonly clock: Clock,
    opts: BackendRegistryOptions = {},
  ) {
    const connectionFailuresTrip = opts.connectionFailuresTrip ?? true;
    for (const def of backends) {
      if (def.type !== 'Single') continue;
      const c = def.credentials;
      const credentials: SelectionCredentials = deepFreeze({
        headers: c.headers,
        query: c.query,
        ...(c.authorization ? { authorization: c.authorization } : {}),
        ...(c.managedIdentity ? { managedIdentity: c.managedIdentity } : {}),
      });
      this.entries.set(def.id, {
        kind: 'single',
        def,
        breaker: def.circuitBreaker ? new CircuitBreaker(def.id, def.circuitBreaker, connectionFailuresTrip) : undefined,
        credentials,
        selections: 0,
        whyText: `backend ${def.id}`,
      });
    }
    if (opts.sharedBreakers) this.shareBreakers(opts.sharedBreakers);
    for (const def of backends) {
      if (def.type !== 'Pool') continue;
      const members: PoolMemberRt[] = [];
      const byPriority = new Map<number, PoolMemberRt[]>();
      for (const m of def.pool?.members ?? []) {
        const single = this.entries.get(m.backendId);
        if (single?.kind !== 'single') {
          throw new RangeError(`pool '${def.id}' member '${m.backendId}' is not a loaded single backend (loadBackends reports this as a diagnostic)`);
        }
        const rt: PoolMemberRt = { single, index: members.length, weight: m.weight ?? 1, current: 0, selections: 0, available: false };
        members.push(rt);
        const p = m.priority ?? 0;
        const list = byPriority.get(p) ?? [];
        list.push(rt);
        byPriority.set(p, list);
      }
      const groups = [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([priority, ms]) => ({ priority, members: ms, mode: describeMode(ms, ms) }));
      const sa = def.pool?.sessionAffinity;
      const affinity: PoolAffinity | undefined = sa
        ? {
            counts: { cookieName: sa.name, assigned: 0, pinned: 0, repinned: 0, unrecognized: 0 },
            memberIds: members.map((m) => m.single.def.id),
            known: new Map(),
          }
        : undefined;
      this.entries.set(def.id, { kind: 'pool', def, groups, members, unavailable: 0, affinity });
    }
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): BackendDefinition | undefined {
    return this.entries.get(id)?.def;
  }

  /** Every loaded backend id (singles first, then pools, each in load order). */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Chooses where a forward-request attempt goes. Pools pick again on every call (no pool-internal retry, docs/apim-behaviour.md: Pools, breakers and backend URLs).
   * Throws RangeError for an id that was never loaded: callers check has() (load-time validation reports it).
   *
   * `request` is read only by a pool with sessionAffinity: its session cookie pins the member while that member's
   * breaker is closed, whatever its priority (a session stays where its state is, even when a higher priority group
   * has come back). A pinned member that is open, or a cookie this pool did not issue, falls through to normal
   * selection and a new session value. The selection's `session` is the cookie to send back.
   */
  select(id: string, request?: SessionSource): BackendSelection {
    const entry = this.entries.get(id);
    if (!entry) throw new RangeError(`unknown backend '${id}'`);
    const now = this.clock.now();
    if (entry.kind === 'single') {
      if (!this.available(entry, now)) {
        const b = entry.breaker!;
        const why = `${entry.whyText}: circuit breaker rule ${b.rule.name} open until ${iso(b.openUntil)}`;
        return {
          ok: false,
          backendId: id,
          statusCode: b.rule.failureResponseStatusCode ?? 503,
          reason: 'BackendUnavailable',
          message: `Backend '${id}' is unavailable: its circuit breaker is open until ${iso(b.openUntil)} (${b.lastTripReason ?? 'tripped'}).`,
          why,
        };
      }
      entry.selections++;
      return { ok: true, backendId: id, memberId: id, url: entry.def.url ?? '', credentials: entry.credentials, why: entry.whyText };
    }

    let sessionWhy = '';
    let repin = false;
    const affinity = entry.affinity;
    if (affinity) {
      const value = requestCookie(request?.get('Cookie'), affinity.counts.cookieName);
      if (value) {
        const index = this.sessionMember(entry, affinity, value);
        const pinned = index === undefined ? undefined : entry.members[index]!;
        if (pinned && this.available(pinned.single, now)) {
          affinity.counts.pinned++;
          pinned.selections++;
          pinned.single.selections++;
          return {
            ok: true,
            backendId: id,
            memberId: pinned.single.def.id,
            url: pinned.single.def.url ?? '',
            credentials: pinned.single.credentials,
            why: `pool ${id}: session affinity: pinned to ${pinned.single.def.id}`,
            session: { cookieName: affinity.counts.cookieName, value, changed: false, setCookie: setCookieValue(affinity.counts.cookieName, value) },
          };
        }
        if (pinned) {
          repin = true;
          sessionWhy = `session member ${pinned.single.def.id} is open: reselected; `;
        } else {
          affinity.counts.unrecognized++;
          sessionWhy = `session cookie ${affinity.counts.cookieName} was not issued by this pool: new session; `;
        }
      }
    }

    let skipped = ''; // priorities passed over because all their members are open
    for (const g of entry.groups) {
      let total = 0;
      let count = 0;
      for (const m of g.members) {
        m.available = this.available(m.single, now);
        if (m.available) {
          total += m.weight;
          count++;
        }
      }
      if (count === 0) {
        skipped += skipped ? `, ${g.priority}` : `${g.priority}`;
        continue;
      }
      // Weight 0 is a standby: chosen only when every available member of the group has weight 0 (then round-robin).
      const zeroMode = total === 0;
      let best: PoolMemberRt | undefined;
      for (const m of g.members) {
        if (!m.available) continue;
        const w = zeroMode ? 1 : m.weight;
        if (w === 0) continue;
        m.current += w;
        if (best === undefined || m.current > best.current) best = m;
      }
      const chosen = best!;
      chosen.current -= zeroMode ? count : total;
      chosen.selections++;
      chosen.single.selections++;
      const mode =
        count === g.members.length
          ? g.mode
          : describeMode(
              g.members,
              g.members.filter((m) => m.available),
            );
      const why =
        `pool ${id}: ${sessionWhy}priority ${g.priority}` + (skipped ? ` (priority ${skipped} all open)` : '') + `, ${mode} → ${chosen.single.def.id}`;
      return {
        ok: true,
        backendId: id,
        memberId: chosen.single.def.id,
        url: chosen.single.def.url ?? '',
        credentials: chosen.single.credentials,
        why,
        ...(affinity ? { session: this.newSession(entry, affinity, chosen, repin) } : {}),
      };
    }
    entry.unavailable++;
    const open = entry.members.map((m) => `${m.single.def.id} until ${iso(m.single.breaker?.openUntil ?? now)}`).join(', ');
    return {
      ok: false,
      backendId: id,
      statusCode: entry.def.pool?.failureResponseStatusCode ?? 503,
      reason: 'BackendUnavailable',
      message: `All backends in pool '${id}' are unavailable (circuit breakers open: ${open}).`,
      why: `pool ${id}: every member's circuit breaker is open (${open})`,
    };
  }

  /**
   * Records the outcome of one forward-request attempt to a single backend: a response status (with headers, for
   * Retry-After) or a gateway error reason (e.g. `BackendConnectionFailure`, `Timeout`). A tripping response still goes
   * to the client; only later selections change. Unknown ids and backends without a rule are ignored.
   * Returns true when this outcome opened the breaker (for the trace), or a promise of it when a shared remote store
   * (Redis, state.shareBreakers) decides; the event is emitted either way.
   */
  report(memberId: string, outcome: BreakerOutcome): boolean | Promise<boolean> {
    const entry = this.entries.get(memberId);
    if (entry?.kind !== 'single' || !entry.breaker) return false;
    const now = this.clock.now();
    const b = entry.breaker;
    this.refresh(entry, now);
    const opened = b.record(outcome, now);
    if (isPromise(opened)) {
      return opened.then((yes) => {
        if (yes) this.emit('Opened', entry, this.clock.now(), b.openForMs);
        return yes;
      });
    }
    if (!opened) return false;
    this.emit('Opened', entry, now, b.openForMs);
    return true;
  }

  state(): BackendStateSnapshot[] {
    const now = this.clock.now();
    const out: BackendStateSnapshot[] = [];
    for (const e of this.entries.values()) {
      if (e.kind === 'single') {
        this.refresh(e, now);
        out.push({
          id: e.def.id,
          type: 'Single',
          ...(e.def.url !== undefined ? { url: e.def.url } : {}),
          selections: e.selections,
          ...(e.breaker ? { breaker: e.breaker.snapshot(now) } : {}),
        });
      } else {
        out.push({
          id: e.def.id,
          type: 'Pool',
          selections: e.members.reduce((n, m) => n + m.selections, 0),
          members: e.groups.flatMap((g) =>
            g.members.map((m) => ({
              backendId: m.single.def.id,
              priority: g.priority,
              weight: m.weight,
              available: this.available(m.single, now),
              selections: m.selections,
            })),
          ),
          unavailable: e.unavailable,
          ...(e.affinity ? { sessionAffinity: { ...e.affinity.counts } } : {}),
        });
      }
    }
    return out;
  }

  /** Subscribes to CircuitBreaker.Opened/Closed events; returns the unsubscribe function. */
  onEvent(listener: (e: CircuitBreakerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Closes every breaker and clears windows, counters and round-robin positions (no events). */
  /**
   * Hot reload (src/server/reload.ts): takes over the runtime state of the registry this one replaces, for backends that
   * are still there with the same rule (breaker) or the same members (pool positions); a backend that disappeared or
   * changed its rule starts fresh. Returns the ids whose state was kept.
   */
  adoptState(previous: BackendRegistry): string[] {
    const kept: string[] = [];
    for (const [id, e] of this.entries) {
      const old = previous.entries.get(id);
      if (!old || old.kind !== e.kind) continue;
      if (e.kind === 'single' && old.kind === 'single') {
        if (e.breaker && old.breaker && JSON.stringify(e.breaker.rule) === JSON.stringify(old.breaker.rule)) e.breaker = old.breaker;
        else if (e.breaker || old.breaker) continue;
        e.selections = old.selections;
        kept.push(id);
      } else if (e.kind === 'pool' && old.kind === 'pool') {
        const same =
          e.members.length === old.members.length &&
          e.members.every((m, i) => m.single.def.id === old.members[i]!.single.def.id && m.weight === old.members[i]!.weight);
        if (!same) continue;
        e.members.forEach((m, i) => {
          m.current = old.members[i]!.current;
          m.selections = old.members[i]!.selections;
        });
        e.unavailable = old.unavailable;
        kept.push(id);
      }
    }
    // Breakers carried over report their shared trips to this registry from now on.
    if (this.shared) for (const e of this.entries.values()) if (e.kind === 'single' && e.breaker) this.bindShared(e);
    this.eventSeq = previous.eventSeq;
    this.sessionSeq = previous.sessionSeq;
    return kept;
  }

  reset(): void {
    for (const e of this.entries.values()) {
      if (e.kind === 'single') {
        e.breaker?.reset();
        e.selections = 0;
      } else {
        e.unavailable = 0;
        if (e.affinity) {
          // Counters only: issued session values keep decoding (they carry their member), as cookies outlive a reset.
          const c = e.affinity.counts;
          c.assigned = c.pinned = c.repinned = c.unrecognized = 0;
        }
        for (const m of e.members) {
          m.current = 0;
          m.selections = 0;
        }
      }
    }
  }

  private sessionMember(entry: PoolEntry, affinity: PoolAffinity, value: string): number | undefined {
    const hit = affinity.known.get(value);
    if (hit !== undefined) return hit;
    const index = decodeSession(entry.def.id, affinity.memberIds, value);
    if (index !== undefined) this.remember(affinity, value, index);
    return index;
  }

  private newSession(entry: PoolEntry, affinity: PoolAffinity, member: PoolMemberRt, repin: boolean): SessionAssignment {
    if (repin) affinity.counts.repinned++;
    else affinity.counts.assigned++;
    const value = encodeSession(entry.def.id, member.index, member.single.def.id, ++this.sessionSeq);
    this.remember(affinity, value, member.index);
    const name = affinity.counts.cookieName;
    return { cookieName: name, value, changed: true, setCookie: setCookieValue(name, value) };
  }

  private remember(affinity: PoolAffinity, value: string, index: number): void {
    if (affinity.known.size >= KNOWN_SESSIONS_MAX) affinity.known.clear();
    affinity.known.set(value, index);
  }

  /** One breaker per backend and rule for every gateway using `store`: trips decided there open the breaker here too. */
  private shareBreakers(store: StateStore): void {
    this.shared = { store, byKey: new Map() };
    for (const e of this.entries.values()) if (e.kind === 'single' && e.breaker) this.bindShared(e);
    // Held weakly: a registry replaced by a reload stops listening once it is collected.
    const self = new WeakRef(this);
    const off = store.onBreakerOpened((key, s) => {
      const registry = self.deref();
      if (!registry) return void off();
      const e = registry.shared?.byKey.get(key);
      const now = registry.clock.now();
      if (e?.breaker?.adopt(s, now)) registry.emit('Opened', e, now, s.openForMs);
    });
  }

  private bindShared(e: SingleEntry): void {
    const shared = this.shared!;
    const key = `breaker:${e.def.id}:${e.breaker!.rule.name}`;
    shared.byKey.set(key, e);
    e.breaker!.share({ store: shared.store, key });
  }

  private available(e: SingleEntry, now: number): boolean {
    if (!e.breaker) return true;
    this.refresh(e, now);
    return !e.breaker.isOpen(now);
  }

  private refresh(e: SingleEntry, now: number): void {
    const closedAt = e.breaker?.refresh(now);
    if (closedAt !== undefined) this.emit('Closed', e, closedAt, e.breaker!.openForMs);
  }

  private emit(kind: 'Opened' | 'Closed', e: SingleEntry, at: number, durationMs: number): void {
    if (this.listeners.size === 0) return;
    const rule = e.breaker!.rule.name;
    const event: CircuitBreakerEvent = {
      id: `circuit-breaker-${++this.eventSeq}`,
      eventType: `Microsoft.ApiManagement.CircuitBreaker.${kind}`,
      subject: `/backends/${e.def.id}/circuit-breaker/rules/${rule}`,
      eventTime: iso(at),
      dataVersion: '1.0',
      metadataVersion: '1',
      data: { backendName: e.def.id, circuitBreaker: { rules: { [rule]: { tripDuration: formatTimeSpan(durationMs) } } } },
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A failing observer must not break request handling; observers report their own errors.
      }
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function describeMode(all: PoolMemberRt[], avail: PoolMemberRt[]): string {
  if (avail.length === 1) return all.length === 1 ? 'single member' : `only ${avail[0]!.single.def.id} available`;
  const weights = avail.map((m) => m.weight);
  if (weights.every((w) => w === 0)) return `round-robin over ${avail.length} (all weight 0)`;
  if (weights.every((w) => w === 1)) return `round-robin over ${avail.length}`;
  return `weighted ${weights.join('/')}`;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}
