import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The path of a file shipped with the package (this file is compiled to dist/src/paths.js). */
export function packagePath(relativePath: string): string {
  return fileURLToPath(new URL(`../../${relativePath}`, import.meta.url));
}

/** A JSON file shipped with the package (schemas/, catalog.json, package.json). */
export function packageJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(packagePath(relativePath), 'utf8')) as T;
}

export const PACKAGE_VERSION: string = packageJson<{ version: string }>('package.json').version;
