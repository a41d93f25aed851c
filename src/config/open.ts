/**
 * The one way a bin opens its config: read the file, validate it, and hand back the settings,
 * the warnings to log and the redactor for its secrets. A problem is a ConfigError whose message
 * is already redacted, since no logger exists yet.
 */
import { readJsonFile } from './files.js';
import { parseLoaderConfig, type LoaderConfig } from './loader-config.js';
import type { ParsedConfig } from './parsed.js';
import { parseTapConfig, type TapConfig } from './tap-config.js';

export async function openTapConfig(path: string): Promise<ParsedConfig<TapConfig>> {
  return parseTapConfig(await readJsonFile(path, 'config'), path);
}

export async function openLoaderConfig(path: string): Promise<ParsedConfig<LoaderConfig>> {
  return parseLoaderConfig(await readJsonFile(path, 'config'), path);
}
