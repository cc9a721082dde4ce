/**
 * Summarises a V8 CPU profile (`.cpuprofile`, from `node --cpu-prof`): self time by function and by area (the
 * emulator's own code, undici, Node's http/net/streams, pino, GC, idle). Run: `npx tsx bench/profile-summary.ts FILE [--top=25]`
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top=25]');
  process.exit(2);
}
const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

function area(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('/src/')) return `emulator ${url.slice(url.indexOf('/src/') + 5).split('/')[0]}`;
  if (url.includes('node_modules/undici')) return 'undici';
  if (url.includes('node_modules/pino') || url.includes('sonic-boom')) return 'pino';
  if (url.includes('node_modules/prom-client')) return 'prom-client';
  if (url.includes('node_modules/')) return `other packages (${url.split('node_modules/').pop()!.split('/')[0]})`;
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url.startsWith('node:http')) return 'node http';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (url.startsWith('node:net') || url.startsWith('node:internal/stream_base') || url.startsWith('node:internal/net')) return 'node net/socket';
  if (url.startsWith('node:')) return 'node other';
  return fn ? 'native/builtin' : 'other';
}

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const a = area(n.callFrame.url, n.callFrame.functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
const busy = total - (areas.get('idle') ?? 0);
const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1)}%`;
console.log(`profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy\n`);
console.log('| area | share of busy time |\n|---|---|');
for (const [a, us] of [...areas].filter(([a]) => a !== 'idle').sort((x, y) => y[1] - x[1])) console.log(`| ${a} | ${pct(us, busy)} |`);
console.log(`\n| function (self time) | share of busy time |\n|---|---|`);
for (const [f, us] of [...fns]
  .filter(([f]) => !f.startsWith('(idle)'))
  .sort((x, y) => y[1] - x[1])
  .slice(0, top))
  console.log(`| \`${f}\` | ${pct(us, busy)} |`);
