import type { BackendRegistry, BackendStateSnapshot, BreakerOutcome } from '../backends/index.js';
import type { Clock } from '../clock.js';
import { VirtualClock } from '../clock.js';

/**
 * What the console shows of the gateway's backends, built from the BackendRegistry's own state (never from log or
 * trace text). Pure: the SSE shell decides when to build one and whether it changed.
 */

export interface ClockView {
  epochMs: number;
  iso: string;
  virtual: boolean;
  /** Virtual clocks only: `advance` (sleepers jump the clock) or `wait`. */
  sleepMode?: string;
}

/** The rule a breaker counts against, as the backend JSON wrote it. */
export interface RuleView {
  name: string;
  count?: number;
  percentage?: number;
  interval: string;
  intervalMs: number;
  tripDuration: string;
  statusCodeRanges: Array<{ min: number; max: number }>;
  errorReasons: string[];
  acceptRetryAfter: boolean;
}

export interface BreakerView {
  state: 'closed' | 'open';
  /** Clock time it closes again (epoch ms), while open. */
  openUntilMs?: number;
  openUntil?: string;
  failuresInWindow: number;
  totalInWindow: number;
  trips: number;
  lastTripReason?: string;
  rule: RuleView;
}

/** One attempt's answer as the backend registry recorded it (status, or the gateway error reason). */
export interface OutcomeView {
  at: number;
  status?: number;
  error?: string;
}

export interface SingleView {
  id: string;
  url?: string;
  description?: string;
  selections: number;
  breaker?: BreakerView;
  /** Newest last, at most RECENT_OUTCOMES. */
  recent: OutcomeView[];
}

export interface PoolMemberView {
  backendId: string;
  weight: number;
  /** This member's share of its priority group's weight (0..1) when all members are available. */
  share: number;
  available: boolean;
  selections: number;
}

export interface PoolView {
  id: string;
  description?: string;
  selections: number;
  /** Selections that found every member open. */
  unavailable: number;
  /** Highest priority (lowest number) first. */
  groups: Array<{ priority: number; members: PoolMemberView[] }>;
  sessionAffinity?: { cookieName: string; assigned: number; pinned: number; repinned: number; unrecognized: number };
}

export interface InstanceView {
  instance: number;
  singles: SingleView[];
  pools: PoolView[];
}

/** How many outcomes per backend the console keeps (bounded, whatever the traffic). */
export const RECENT_OUTCOMES = 12;

/**
 * The last outcomes reported to one registry, per single backend. Fed only while a console is connected (see
 * OutcomeRecorder.attach), so a gateway nobody watches pays nothing.
 */
export class OutcomeRecorder {
  private readonly byBackend = new Map<string, OutcomeView[]>();

  constructor(private readonly clock: Clock) {}

  record(memberId: string, outcome: BreakerOutcome): void {
    let list = this.byBackend.get(memberId);
    if (!list) {
      list = [];
      this.byBackend.set(memberId, list);
    }
    const at = this.clock.now();
    list.push('status' in outcome ? { at, status: outcome.status } : { at, error: outcome.errorReason });
    if (list.length > RECENT_OUTCOMES) list.shift();
  }

  recent(id: string): OutcomeView[] {
    return this.byBackend.get(id) ?? [];
  }

  clear(): void {
    this.byBackend.clear();
  }

  /**
   * Observes every forward-request outcome the registry is told about (forward-request reports each attempt to a
   * single backend), by wrapping this registry object's report(). Returns the function that restores it.
   */
  attach(registry: BackendRegistry): () => void {
    const own = Object.prototype.hasOwnProperty.call(registry, 'report');
    const original = registry.report;
    const wrapped = (memberId: string, outcome: BreakerOutcome): boolean | Promise<boolean> => {
      const opened = original.call(registry, memberId, outcome);
      this.record(memberId, outcome);
      return opened;
    };
    registry.report = wrapped;
    return () => {
      if (registry.report !== wrapped) return;
      if (own) registry.report = original;
      else delete (registry as { report?: unknown }).report;
    };
  }
}

export function clockView(clock: Clock): ClockView {
  const now = clock.now();
  return {
    epochMs: now,
    iso: new Date(now).toISOString(),
    virtual: clock instanceof VirtualClock,
    ...(clock instanceof VirtualClock ? { sleepMode: clock.sleepMode } : {}),
  };
}

/** The backends of one gateway instance: singles with breaker and recent outcomes, pools as priority groups. */
export function instanceView(instance: number, registry: BackendRegistry | null, outcomes: OutcomeRecorder | undefined): InstanceView {
  const view: InstanceView = { instance, singles: [], pools: [] };
  if (!registry) return view;
  // state() also closes breakers whose time has come (and emits their Closed events), as GET /_emulator/backends does.
  const state = registry.state();
  for (const s of state) {
    const def = registry.get(s.id);
    if (s.type === 'Single') view.singles.push(singleView(s, def, outcomes));
    else view.pools.push(poolView(s, def?.description));
  }
  return view;
}

function singleView(s: BackendStateSnapshot, def: ReturnType<BackendRegistry['get']>, outcomes: OutcomeRecorder | undefined): SingleView {
  const rule = def?.circuitBreaker;
  const b = s.breaker;
  return {
    id: s.id,
    ...(s.url !== undefined ? { url: s.url } : {}),
    ...(def?.description ? { description: def.description } : {}),
    selections: s.selections,
    ...(b && rule
      ? {
          breaker: {
            state: b.state,
            ...(b.openUntil ? { openUntil: b.openUntil, openUntilMs: Date.parse(b.openUntil) } : {}),
            failuresInWindow: b.failuresInWindow,
            totalInWindow: b.totalInWindow,
            trips: b.trips,
            ...(b.lastTripReason !== undefined ? { lastTripReason: b.lastTripReason } : {}),
            rule: {
              name: rule.name,
              ...(rule.count !== undefined ? { count: rule.count } : {}),
              ...(rule.percentage !== undefined ? { percentage: rule.percentage } : {}),
              interval: rule.interval,
              intervalMs: rule.intervalMs,
              tripDuration: rule.tripDuration,
              statusCodeRanges: rule.statusCodeRanges.map((r) => ({ min: r.min, max: r.max })),
              errorReasons: [...rule.errorReasons],
              acceptRetryAfter: rule.acceptRetryAfter,
            },
          },
        }
      : {}),
    recent: outcomes ? [...outcomes.recent(s.id)] : [],
  };
}

function poolView(s: BackendStateSnapshot, description: string | undefined): PoolView {
  const groups = new Map<number, PoolMemberView[]>();
  for (const m of s.members ?? []) {
    const list = groups.get(m.priority) ?? [];
    list.push({ backendId: m.backendId, weight: m.weight, share: 0, available: m.available, selections: m.selections });
    groups.set(m.priority, list);
  }
  for (const members of groups.values()) {
    const total = members.reduce((n, m) => n + m.weight, 0);
    // Weight 0 everywhere is round-robin (docs/backends.md): equal shares.
    for (const m of members) m.share = total === 0 ? 1 / members.length : m.weight / total;
  }
  return {
    id: s.id,
    ...(description ? { description } : {}),
    selections: s.selections,
    unavailable: s.unavailable ?? 0,
    groups: [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([priority, members]) => ({ priority, members })),
    ...(s.sessionAffinity ? { sessionAffinity: { ...s.sessionAffinity } } : {}),
  };
}
