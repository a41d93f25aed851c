import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root (this file is compiled to dist/src/paths.js). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A JSON file shipped with the package (schemas/, catalog.json, package.json). */
export function packageJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(`../../${relativePath}`, import.meta.url), 'utf8')) as T;
}

export const PACKAGE_VERSION: string = packageJson<{ version: string }>('package.json').version;
