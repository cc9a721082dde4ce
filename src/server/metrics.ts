import type { CircuitBreakerEvent } from '../backends/index.js';
import type { MetricRecord } from '../engine/services.js';

/** One metric emitted by policies (emit-metric, llm-emit-token-metric): its series summed by dimension values. */
interface PolicyMetric {
  promName: string;
  originalName: string;
  series: Map<string, { labels: Record<string, string>; value: number }>;
}

/** Latency buckets in seconds: sub-millisecond resolution for the gateway's own overhead, up to LLM-length calls. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Prometheus text exposition format 0.0.4 (what /_emulator/metrics answers). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface CounterSeries {
  labels: string;
  value: number;
}

interface HistogramSeries {
  labels: string;
  /** Per bucket (not cumulative); the last slot counts observations above the largest bucket. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Prometheus metrics of one server (several servers can run in one process: tests), served on /_emulator/metrics in
 * the text exposition format. Written by hand rather than with prom-client: a few counters and one histogram do not
 * need a library, and prom-client cost ~135 ms of every `serve` start-up and a label-object lookup per request
 * (docs/performance.md, start-up).
 */
export class ServerMetrics {
  private readonly requests = new Map<string, CounterSeries>();
  private readonly duration = new Map<string, HistogramSeries>();
  private inFlightCount = 0;
  private readonly breakerOpened = new Map<string, CounterSeries>();
  private readonly breakerClosed = new Map<string, CounterSeries>();
  private readonly policyMetrics = new Map<string, PolicyMetric>();
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();

  constructor(opts: { warn?: (message: string) => void } = {}) {
    this.warn = opts.warn ?? (() => undefined);
  }

  requestStarted(): void {
    this.inFlightCount++;
  }

  requestFinished(r: { api: string; operation: string; backend: string; status: number; seconds: number }): void {
    this.inFlightCount--;
    const key = `${r.api}\u0000${r.operation}\u0000${r.backend}\u0000${r.status}`;
    const c = this.requests.get(key);
    if (c) c.value++;
    else this.requests.set(key, { labels: labelText({ api: r.api, operation: r.operation, backend: r.backend, status: String(r.status) }), value: 1 });
    const hkey = `${r.api}\u0000${r.operation}`;
    let h = this.duration.get(hkey);
    if (!h) {
      h = { labels: labelText({ api: r.api, operation: r.operation }), counts: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.duration.set(hkey, h);
    }
    let i = 0;
    while (i < LATENCY_BUCKETS.length && r.seconds > LATENCY_BUCKETS[i]!) i++;
    h.counts[i]!++;
    h.sum += r.seconds;
    h.count++;
  }

  breakerEvent(e: CircuitBreakerEvent): void {
    const backend = e.data.backendName;
    const into = e.eventType.endsWith('.Opened') ? this.breakerOpened : this.breakerClosed;
    const c = into.get(backend);
    if (c) c.value++;
    else into.set(backend, { labels: labelText({ backend }), value: 1 });
  }

  /**
   * RuntimeServices.emitMetric: one Prometheus counter per metric name (`apim_policy_<name>_total`, the sum of the
   * emitted values) with the metric's namespace and dimensions as labels. A dimension first seen later widens the
   * label set; earlier series simply lack that label.
   */
  policyMetric(m: MetricRecord): void {
    if (!Number.isFinite(m.value) || m.value < 0) {
      this.warnOnce(`negative:${m.name}`, `metric "${m.name}": value ${m.value} ignored; Prometheus counters only add non-negative values`);
      return;
    }
    const promName = `apim_policy_${sanitize(m.name)}_total`;
    let pm = this.policyMetrics.get(promName);
    if (!pm) {
      pm = { promName, originalName: m.name, series: new Map() };
      this.policyMetrics.set(promName, pm);
    }
    const labels: Record<string, string> = { namespace: m.namespace };
    for (const [k, v] of Object.entries(m.dimensions)) {
      let name = sanitize(k);
      if (name === 'namespace') name = 'dim_namespace';
      labels[name] = String(v);
    }
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    const s = pm.series.get(key);
    if (s) s.value += m.value;
    else pm.series.set(key, { labels, value: m.value });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('apim_requests_total', 'counter', 'Gateway requests by API, operation, backend (pool member, backend id or URL origin) and response status.');
    for (const c of this.requests.values()) out.push(`apim_requests_total${c.labels} ${c.value}`);
    family('apim_request_duration_seconds', 'histogram', 'Wall-clock time from request received to response fully sent, by API and operation.');
    for (const h of this.duration.values()) {
      const inner = h.labels.slice(1, -1);
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += h.counts[i]!;
        out.push(`apim_request_duration_seconds_bucket{le="${LATENCY_BUCKETS[i]}",${inner}} ${cumulative}`);
      }
      out.push(`apim_request_duration_seconds_bucket{le="+Inf",${inner}} ${h.count}`);
      out.push(`apim_request_duration_seconds_sum${h.labels} ${h.sum}`, `apim_request_duration_seconds_count${h.labels} ${h.count}`);
    }
    family('apim_requests_in_flight', 'gauge', 'Gateway requests being handled now.');
    out.push(`apim_requests_in_flight ${this.inFlightCount}`);
    family('apim_circuit_breaker_opened_total', 'counter', 'Circuit breaker trips (CircuitBreaker.Opened events) by backend.');
    for (const c of this.breakerOpened.values()) out.push(`apim_circuit_breaker_opened_total${c.labels} ${c.value}`);
    family('apim_circuit_breaker_closed_total', 'counter', 'Circuit breakers closing again (CircuitBreaker.Closed events) by backend.');
    for (const c of this.breakerClosed.values()) out.push(`apim_circuit_breaker_closed_total${c.labels} ${c.value}`);
    for (const pm of this.policyMetrics.values()) {
      family(pm.promName, 'counter', `Sum of values emitted by policies for metric "${escapeHelp(pm.originalName)}".`);
      for (const s of pm.series.values()) out.push(`${pm.promName}${labelText(s.labels)} ${s.value}`);
    }
    return { contentType: CONTENT_TYPE, body: `${out.join('\n')}\n` };
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }
}

/** `{a="x",b="y"}` with the format's escapes (backslash, double quote, line feed); '' for no labels. */
function labelText(labels: Record<string, string>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * Names already sanitized: metric and dimension names are attribute text of policy documents, so a few distinct ones
 * recur on every emission (three token metrics per LLM request). Bounded in case of a surprise.
 */
const sanitizedNames = new Map<string, string>();

/** A Prometheus-legal metric or label name part: lowercase letters, digits and underscores, not starting with a digit. */
function sanitize(name: string): string {
  let s = sanitizedNames.get(name);
  if (s === undefined) {
    if (sanitizedNames.size >= 10_000) sanitizedNames.clear();
    sanitizedNames.set(name, (s = sanitizeName(name)));
  }
  return s;
}

function sanitizeName(name: string): string {
  const s = name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!s) return 'unnamed';
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
