/** The files `qmtl init` writes for every template without sample data, sorted as listed. */
export const COMMON_PROJECT_FILES = [
  '.gitignore',
  'README.md',
  'generators/index.ts',
  'history.ts',
  'indicators/index.ts',
  'package.json',
  'qmtl.yml',
  'strategy.ts',
  'transforms/index.ts',
  'tsconfig.json',
] as const;
