/** Scopes `validate --scope` can place a policy document at; a module of its own so `--help` loads no compiler. */
export type PolicyScopeName = 'global' | 'product' | 'api' | 'operation';
export const SCOPE_NAMES: readonly PolicyScopeName[] = ['global', 'product', 'api', 'operation'];
