// ESLint (flat config): typescript-eslint's recommended rules, tuned so the tree passes as it is. Likely bugs stay
// errors (constant conditions, duplicate keys, unreachable code, unsafe declarations...); code smells that are not bugs
// are warnings; style is Prettier's job (.prettierrc, `npm run format:check`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/', 'coverage/', 'node_modules/', '**/*.d.ts'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  linterOptions: { reportUnusedDisableDirectives: 'off' },
  rules: {
    // TypeScript checks names itself (and knows Node's globals from @types/node).
    'no-undef': 'off',
    // Smells, not bugs: reported without failing the run.
    '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    '@typescript-eslint/no-unused-expressions': 'warn',
    'no-useless-assignment': 'warn',
    // .NET numeric limits are written as .NET prints them (docs/dotnet.md); the double they round to is intended.
    'no-loss-of-precision': 'warn',
    // `any` needs a reason in review, not a lint failure; the strict tsconfig already rejects implicit any.
    '@typescript-eslint/no-explicit-any': 'off',
    // Style: escapes, control characters and spaces in regular expressions are deliberate (XML and .NET text rules).
    'no-useless-escape': 'off',
    'no-control-regex': 'off',
    'no-regex-spaces': 'off',
    'no-empty': ['error', { allowEmptyCatch: true }],
    'prefer-const': 'off',
    '@typescript-eslint/no-this-alias': 'off',
  },
});
