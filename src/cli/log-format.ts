import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

/**
 * `--log-format pretty` (the default on a terminal): one readable line per pino record. A request reads
 * `12:00:01.250 INFO  GET /basic-api/items -> 403 basic-api/get-items 2.1ms  why: ip-filter CallerIpNotAllowed ...`;
 * other records show their message and fields as key=value.
 */
export function formatPrettyLine(json: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { level, time, msg, ...rest } = r;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lv = LEVELS[Number(level)] ?? String(level);
  if (msg === 'request') {
    const { method, path, status, api, operation, durationMs, lastError, why, ...more } = rest as Record<string, unknown> & {
      lastError?: Record<string, unknown>;
    };
    const target = api ? ` ${String(api)}${operation ? `/${String(operation)}` : ''}` : '';
    const reason = lastError
      ? `  why: ${String(lastError.reason)} at ${String(lastError.source)} (${String(lastError.scope)} ${String(lastError.section)} ${String(lastError.path)}): ${String(lastError.message)}`
      : why
        ? `  why: ${String(why)}`
        : '';
    const extra = Object.entries(more)
      .filter(([k]) => k !== 'requestId')
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    return `${t} ${lv} ${String(method)} ${String(path)} -> ${String(status)}${target} ${String(durationMs)}ms${extra ? ` ${extra}` : ''}${reason}\n`;
  }
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${t} ${lv} ${String(msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

/** A pino destination writing formatPrettyLine output. */
export function prettyDestination(write: (line: string) => void): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) write(formatPrettyLine(line));
    },
  };
}
