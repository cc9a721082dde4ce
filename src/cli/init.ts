import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `apim-emulator init [DIR]`: a working folder that `serve` and `test` run as is. One API in front of a backend pool
 * (priority 1 with a circuit breaker that trips on the first 429, priority 2 as fallback), and one scenario that shows
 * the failover on virtual time. The files are the smallest useful version of the bundled example (policies/example).
 */

const CONFIG = `{
  "description": "One API in front of a backend pool with a circuit breaker. Serve: apim-emulator serve --config apim-emulator.json --mock-backends. Test: apim-emulator test scenarios",
  "namedValues": {
    "backend-key": { "value": "not-a-real-key", "secret": true }
  },
  "backends": ["backends.json"],
  "apis": [
    {
      "id": "chat",
      "name": "Chat API",
      "path": "chat",
      "serviceUrl": "https://primary.example.com/openai",
      "subscriptionRequired": false,
      "policy": "policies/chat-api.xml"
    }
  ],
  "server": { "port": 8080 }
}
`;

const POLICY = `<!--
  API-scope policy: every request goes to the backend pool; on 429 or 503 the request is sent again, and each attempt
  picks a pool member afresh, skipping members whose circuit breaker is open.
-->
<policies>
    <inbound>
        <base />
        <set-header name="api-key" exists-action="override">
            <value>{{backend-key}}</value>
        </set-header>
        <set-backend-service backend-id="chat-pool" />
    </inbound>
    <backend>
        <retry count="1" interval="0" first-fast-retry="true" condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)">
            <set-backend-service backend-id="chat-pool" />
            <forward-request buffer-request-body="true" />
        </retry>
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
`;

const breaker = `"circuitBreaker": {
          "rules": [
            {
              "name": "trip-on-429",
              "failureCondition": { "count": 1, "interval": "PT1M", "statusCodeRanges": [{ "min": 429, "max": 429 }] },
              "tripDuration": "PT1M",
              "acceptRetryAfter": true
            }
          ]
        }`;

const BACKENDS = `{
  "backends": [
    {
      "type": "Microsoft.ApiManagement/service/backends",
      "apiVersion": "2024-06-01-preview",
      "name": "primary",
      "properties": {
        "url": "https://primary.example.com/openai",
        "protocol": "http",
        ${breaker}
      }
    },
    {
      "type": "Microsoft.ApiManagement/service/backends",
      "apiVersion": "2024-06-01-preview",
      "name": "secondary",
      "properties": {
        "url": "https://secondary.example.com/openai",
        "protocol": "http",
        ${breaker}
      }
    },
    {
      "type": "Microsoft.ApiManagement/service/backends",
      "apiVersion": "2024-06-01-preview",
      "name": "chat-pool",
      "properties": {
        "type": "Pool",
        "pool": {
          "services": [
            { "id": "/backends/primary", "priority": 1 },
            { "id": "/backends/secondary", "priority": 2 }
          ]
        }
      }
    }
  ]
}
`;

const SCENARIO = `# The primary answers 429 once: its breaker opens and the retry goes to the secondary. After the trip duration
# (one minute of virtual time, no real waiting) the primary serves again. Run: apim-emulator test scenarios
name: failover to the secondary on 429
config: ../apim-emulator.json
mocks:
  primary: "429; aoai"
steps:
  - name: the first 429 trips the primary; the retry reaches the secondary
    send: &chat
      path: /chat/deployments/gpt-4o/chat/completions?api-version=2024-10-21
      body: { messages: [{ role: user, content: Hello }] }
    expect:
      status: 200
      attempts: [primary 429, secondary 200]
      breakers: { primary: open }

  - name: the trip duration is over
    advance: 1m
    expect:
      breakers: { primary: closed }

  - name: the primary serves again
    send: *chat
    expect:
      status: 200
      attempts: [primary 200]
`;

/** Relative path → content, in the order they are written. */
export const INIT_FILES: ReadonlyArray<readonly [string, string]> = [
  ['apim-emulator.json', CONFIG],
  ['policies/chat-api.xml', POLICY],
  ['backends.json', BACKENDS],
  ['scenarios/failover.scenario.yaml', SCENARIO],
];

export interface InitResult {
  /** 0 written, 2 nothing written because files exist (without force) or the folder cannot be written. */
  exitCode: 0 | 2;
  lines: string[];
}

/** Writes the starter files into `dir` (created when missing); never overwrites a file unless `force`. */
export function runInit(dir: string, force = false): InitResult {
  const root = path.resolve(dir);
  const existing = INIT_FILES.map(([rel]) => rel).filter((rel) => existsSync(path.join(root, rel)));
  if (existing.length && !force) {
    return {
      exitCode: 2,
      lines: [`error: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}; nothing was written (use --force to overwrite)`],
    };
  }
  try {
    for (const [rel, text] of INIT_FILES) {
      const file = path.join(root, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  } catch (e) {
    return { exitCode: 2, lines: [`error: cannot write to ${dir}: ${(e as Error).message}`] };
  }
  const cd = path.resolve(dir) === process.cwd() ? '.' : dir;
  return {
    exitCode: 0,
    lines: [
      `wrote ${INIT_FILES.map(([rel]) => rel).join(', ')} in ${cd}`,
      'next:',
      ...(cd === '.' ? [] : [`  cd ${cd}`]),
      '  apim-emulator validate .',
      '  apim-emulator test scenarios',
      '  apim-emulator serve --config apim-emulator.json --mock-backends',
    ],
  };
}
