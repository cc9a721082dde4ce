import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitBreakerEvent } from '../backends/index.js';
import type { MetricRecord } from '../engine/services.js';

type RequestLabels = 'api' | 'operation' | 'backend' | 'status';

/** One metric emitted by policies (emit-metric, llm-emit-token-metric): its series summed by dimension values. */
interface PolicyMetric {
  promName: string;
  labelNames: Set<string>;
  series: Map<string, { labels: Record<string, string>; value: number }>;
}

/** Latency buckets in seconds: sub-millisecond resolution for the gateway's own overhead, up to LLM-length calls. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Prometheus metrics of one server, on its own Registry (never the global one) so that several servers can run in one
 * process (tests). Served on /_emulator/metrics.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<RequestLabels>;
  private readonly duration: Histogram<'api' | 'operation'>;
  private readonly inFlight: Gauge;
  private inFlightCount = 0;
  private readonly breakerOpened: Counter<'backend'>;
  private readonly breakerClosed: Counter<'backend'>;
  private readonly policyMetrics = new Map<string, PolicyMetric>();
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();

  constructor(opts: { warn?: (message: string) => void } = {}) {
    this.warn = opts.warn ?? (() => undefined);
    this.requests = new Counter({
      name: 'apim_requests_total',
      help: 'Gateway requests by API, operation, backend (pool member, backend id or URL origin) and response status.',
      labelNames: ['api', 'operation', 'backend', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'apim_request_duration_seconds',
      help: 'Wall-clock time from request received to response fully sent, by API and operation.',
      labelNames: ['api', 'operation'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    const self = this;
    this.inFlight = new Gauge({
      name: 'apim_requests_in_flight',
      help: 'Gateway requests being handled now.',
      registers: [this.registry],
      collect() {
        this.set(self.inFlightCount);
      },
    });
    this.breakerOpened = new Counter({
      name: 'apim_circuit_breaker_opened_total',
      help: 'Circuit breaker trips (CircuitBreaker.Opened events) by backend.',
      labelNames: ['backend'],
      registers: [this.registry],
    });
    this.breakerClosed = new Counter({
      name: 'apim_circuit_breaker_closed_total',
      help: 'Circuit breakers closing again (CircuitBreaker.Closed events) by backend.',
      labelNames: ['backend'],
      registers: [this.registry],
    });
  }

  requestStarted(): void {
    this.inFlightCount++;
  }

  requestFinished(r: { api: string; operation: string; backend: string; status: number; seconds: number }): void {
    this.inFlightCount--;
    this.requests.inc({ api: r.api, operation: r.operation, backend: r.backend, status: String(r.status) });
    this.duration.observe({ api: r.api, operation: r.operation }, r.seconds);
  }

  breakerEvent(e: CircuitBreakerEvent): void {
    const backend = e.data.backendName;
    if (e.eventType.endsWith('.Opened')) this.breakerOpened.inc({ backend });
    else this.breakerClosed.inc({ backend });
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
      pm = { promName, labelNames: new Set(['namespace']), series: new Map() };
      this.policyMetrics.set(promName, pm);
    }
    const labels: Record<string, string> = { namespace: m.namespace };
    for (const [k, v] of Object.entries(m.dimensions)) {
      let name = sanitize(k);
      if (name === 'namespace') name = 'dim_namespace';
      labels[name] = String(v);
    }
    let widened = !this.registry.getSingleMetric(promName);
    for (const k of Object.keys(labels)) {
      if (!pm.labelNames.has(k)) {
        pm.labelNames.add(k);
        widened = true;
      }
    }
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    const s = pm.series.get(key);
    if (s) s.value += m.value;
    else pm.series.set(key, { labels, value: m.value });
    if (widened) this.registerPolicyMetric(pm, m.name);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private registerPolicyMetric(pm: PolicyMetric, originalName: string): void {
    this.registry.removeSingleMetric(pm.promName);
    const series = pm.series;
    new Counter({
      name: pm.promName,
      help: `Sum of values emitted by policies for metric "${originalName}".`,
      labelNames: [...pm.labelNames],
      registers: [this.registry],
      // Values live in `series` so the label set can widen without losing what was counted before.
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels, s.value);
      },
    });
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }
}

/** A Prometheus-legal metric or label name part: lowercase letters, digits and underscores, not starting with a digit. */
function sanitize(name: string): string {
  const s = name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!s) return 'unnamed';
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
