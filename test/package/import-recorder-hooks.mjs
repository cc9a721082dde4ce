// Module hooks of test/package/import-recorder.mjs: every resolved ES module URL, appended to $APIM_IMPORT_LOG.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.APIM_IMPORT_LOG, `${r.url}\n`);
  return r;
}
