import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layer rules: dependencies point one way, common ← dag ← sdk ← cli. Import cycles: tests/architecture. */
const layers = [
  { from: 'src/common', forbid: ['dag', 'sdk', 'indicators', 'generators', 'io', 'cli', 'demo'] },
  { from: 'src/dag', forbid: ['sdk', 'indicators', 'generators', 'io', 'cli', 'demo'] },
  { from: 'src/sdk', forbid: ['indicators', 'generators', 'cli', 'demo'] },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'test-results/**',
      'eslint.config.js',
      'examples/**',
      'templates/**',
      '.cache/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  ...layers.map(({ from, forbid }) => ({
    files: [`${from}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbid.map((layer) => ({
            group: [`**/${layer}/*`, `../${layer}`],
            message: `${from} must not depend on ${layer}`,
          })),
        },
      ],
    },
  })),
  { files: ['vitest.config.ts'], rules: { 'no-restricted-syntax': 'off' } },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
