import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);

/**
 * A library loaded on first use instead of at start-up: the heavy ones (graphql, liquidjs, xslt-processor,
 * fast-xml-parser, ajv, yaml) cost 50-230 ms of CPU each to import and most runs never need them
 * (docs/performance.md, start-up). Loading is synchronous because policy compilation is (Node ≥ 20.19 `require()`s
 * ES modules as well as CommonJS). Every use of a library in a module goes through the same getter, so the module
 * never sees two copies of it. Types come from `typeof import('pkg')`, which loads nothing.
 */
export function lazyLibrary<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireFromHere(specifier) as T);
}
