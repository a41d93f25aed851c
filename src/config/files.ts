/**
 * Reading the JSON files a bin is given (config, state, catalog). Every problem is one line that
 * names the file and never quotes its content: a config file holds secrets, and a parser's
 * message quotes the characters around a syntax error, so a syntax error is reported by line
 * and column only.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CatalogError, ConfigError, errorCode, StateError } from '../errors.js';

/** The kinds of file a bin reads, each with the error (and so the exit code) its problems raise. */
const FILE_ERRORS = { config: ConfigError, state: StateError, catalog: CatalogError } as const;
export type JsonFileKind = keyof typeof FILE_ERRORS;

/** Far above any real config, state or catalog (a catalog of a few hundred custom columns is ~1 MB). */
export const MAX_JSON_FILE_BYTES = 16 * 1024 * 1024;

/** Reads a JSON file: undefined when it is empty, else its value. */
export async function readJsonFile(path: string, kind: JsonFileKind): Promise<unknown> {
  const JsonFileError = FILE_ERRORS[kind];
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_JSON_FILE_BYTES) {
      throw new JsonFileError(`the ${kind} file ${path} is ${size} bytes, more than the ${MAX_JSON_FILE_BYTES} a ${kind} file may have`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof JsonFileError) throw error;
    const reason = errorCode(error) ?? 'unreadable';
    throw new JsonFileError(`cannot read the ${kind} file ${path} (${reason}); check the path`, { cause: error });
  }
  try {
    return parseJsonText(text, `the ${kind} file ${basename(path)}`, JsonFileError);
  } catch (error) {
    if (error instanceof JsonFileError) throw new JsonFileError(`${error.message}; fix it`);
    throw error;
  }
}

/** Parses JSON text; a syntax error names `what`, the line and the column, and nothing of the text. */
export function parseJsonText(text: string, what: string, JsonError: new (message: string) => Error = ConfigError): unknown {
  // A byte order mark, as some Windows editors write: not JSON, but never what the user meant.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    const { line, column } = lineAndColumn(body, syntaxErrorOffset(body));
    // No `cause`: the parser's message quotes the text around the error.
    throw new JsonError(`${what} is not valid JSON: syntax error at line ${line}, column ${column}`);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The offset of the first character that makes `text` invalid JSON (its length when the text
 * ends too early). A small recursive-descent reader: JSON.parse's message has no offset in every
 * Node version, and where it has one it also quotes the text.
 */
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

export function syntaxErrorOffset(text: string): number {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const literal = (word: string): void => {
    for (const char of word) {
      if (text[at] !== char) fail();
      at++;
    }
  };
  const readString = (): void => {
    at++; // the opening quote
    for (;;) {
      if (at >= text.length) fail();
      const char = text.charCodeAt(at);
      if (char === 0x22) {
        at++;
        return;
      }
      if (char < 0x20) fail();
      if (char === 0x5c) {
        at++;
        const escaped = text[at];
        if (escaped === 'u') {
          for (let digit = 0; digit < 4; digit++) if (!/[0-9a-fA-F]/.test(text[++at] ?? '')) fail();
        } else if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) fail();
      }
      at++;
    }
  };
  const readNumber = (): void => {
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match?.[0]) fail();
    at += (match as RegExpExecArray)[0].length;
  };
  /** Items separated by commas up to `close`, the opening bracket at `at`. */
  const items = (close: string, item: () => void): void => {
    at++;
    space();
    if (text[at] === close) {
      at++;
      return;
    }
    for (;;) {
      item();
      space();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] !== close) fail();
      at++;
      return;
    }
  };
  const value = (depth: number): void => {
    if (depth > 512) fail();
    space();
    const char = text[at];
    const member = (): void => {
      space();
      if (text[at] !== '"') fail();
      readString();
      space();
      if (text[at] !== ':') fail();
      at++;
      value(depth + 1);
    };
    if (char === '{') items('}', member);
    else if (char === '[') items(']', () => value(depth + 1));
    else if (char === '"') readString();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else readNumber();
  };
  try {
    value(0);
    space();
    if (at < text.length) fail();
    return text.length;
  } catch (offset) {
    if (typeof offset !== 'number') throw offset;
    return Math.min(offset, text.length);
  }
}
