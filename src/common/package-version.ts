import { readFileSync } from 'node:fs';

let version: string | null = null;

/** This package's version from its package.json (`0.0.0` if unreadable), read once. */
export function packageVersion(): string {
  if (version !== null) return version;
  // The same relative path from src/common/ and from dist/common/.
  let manifest: unknown = null;
  try {
    manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  } catch {
    // A bundler that dropped package.json: no version to tell.
  }
  const found = (manifest as { version?: unknown } | null)?.version;
  return (version = typeof found === 'string' ? found : '0.0.0');
}
