import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

type ErrorFactory = (message: string, options?: { cause?: unknown }) => Error;

/** Reads a JSON file; an unreadable or invalid file is one line naming the file and the problem. */
export async function readJsonFile(path: string, what: string, makeError: ErrorFactory): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error && typeof error === 'object' && 'code' in error ? String(error.code) : String(error);
    throw makeError(`cannot read the ${what} file ${path} (${reason}); check the path`, { cause: error });
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw makeError(`the ${what} file ${basename(path)} is not valid JSON (${reason}); fix or regenerate it`, { cause: error });
  }
}
