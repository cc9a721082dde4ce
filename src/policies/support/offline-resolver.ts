import type { CompileContext, Step, XmlElement } from '../../engine/policy-sdk.js';
import { childElements } from '../../engine/policy-sdk.js';
import { isResolverRoot, registerResolver, resolverError } from './graphql-resolvers.js';
import { offlineWarning } from './offline.js';

/**
 * The compile step shared by the resolver data sources that need an Azure database (sql-data-source,
 * cosmosdb-data-source): validated by their metadata, a warning at load, and at run time the field fails with a
 * GraphQL error that says why (docs/policies-graphql.md). Their `<response>` statements are still compiled (checked).
 */
export function compileOfflineDataSource(el: XmlElement, cx: CompileContext, service: string): Step {
  if (!isResolverRoot(el)) {
    cx.diagnostics.error(
      el.source,
      el.start,
      'policy/element-not-allowed',
      `<${el.name}> is a GraphQL resolver: it is the root of a resolver document, not a statement inside <policies>`,
      'give resolvers in settings["graphql.resolvers"] (docs/policies-graphql.md)',
    );
    return () => 'continue';
  }
  offlineWarning(el, cx, `there is no ${service} offline, so the field it resolves answers a GraphQL error saying so`);
  for (const r of childElements(el, 'response')) cx.policies(r);
  const name = el.name;
  registerResolver(el, () =>
    Promise.reject(
      resolverError(
        name,
        `<${name}> cannot run offline: apim-emulator has no ${service} to query. Resolve this field with <http-data-source> against a local service instead.`,
      ),
    ),
  );
  return () => 'continue';
}
