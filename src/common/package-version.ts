import { readFileSync } from 'node:fs';

let manifest: Readonly<Record<string, unknown>> | null = null;

/** This package's package.json as an object (empty if unreadable), read once. */
export function packageManifest(): Readonly<Record<string, unknown>> {
  if (manifest !== null) return manifest;
  let parsed: unknown = null;
  try {
    // The same relative path from src/common/ and from dist/common/.
    parsed = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  } catch {
    // A bundler that dropped package.json: nothing to tell.
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  return (manifest = isObject ? (parsed as Record<string, unknown>) : {});
}

/** This package's version from its package.json (`0.0.0` if unreadable). */
export function packageVersion(): string {
  const found = packageManifest()['version'];
  return typeof found === 'string' ? found : '0.0.0';
}
