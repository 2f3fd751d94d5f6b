import { describe, expect, it } from 'vitest';
import { schemaText } from './dagm-command.js';

describe('schemaText (qmtl dagm export-schema)', () => {
  it('ends every statement with a semicolon, one per line', () => {
    expect(schemaText(['CREATE CONSTRAINT a', 'CREATE INDEX b'])).toBe(
      'CREATE CONSTRAINT a;\nCREATE INDEX b;\n',
    );
  });

  it('is empty for a database without a schema, not a lone ";"', () => {
    expect(schemaText([])).toBe('');
  });
});
