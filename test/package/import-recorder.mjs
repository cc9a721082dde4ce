// Preloaded by test/package/package.test.ts (`node --import`): records the packages a CLI command loads, ES modules
// through a resolve hook (which appends each URL to $APIM_IMPORT_LOG) and CommonJS through the require cache, and
// prints them on stderr as `packages:a,b,c` when the command prints its "listening on" line or exits.
import { readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

register('./import-recorder-hooks.mjs', import.meta.url);
const log = process.env.APIM_IMPORT_LOG;
const require = createRequire(import.meta.url);

function packages() {
  const urls = [...readFileSync(log, 'utf8').split('\n'), ...Object.keys(require.cache)];
  // ajv's small runtime helpers, which the precompiled schema validators use, are not ajv itself.
  const name = (u) => (/node_modules\/ajv\/dist\/runtime\//.test(u) ? 'ajv-runtime' : /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(u)?.[1]);
  const names = urls.map(name).filter((p) => p && p !== 'apim-emulator');
  return [...new Set(names)].sort();
}

let reported = false;
function report() {
  if (reported) return;
  reported = true;
  process.stderr.write(`\npackages:${packages().join(',')}\n`);
}
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  const r = write(chunk, ...rest);
  if (/^listening on /m.test(String(chunk))) report();
  return r;
};
process.on('exit', report);
