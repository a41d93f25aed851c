import { createInterface } from 'node:readline';

/**
 * Lines of a child's stream, as they come; `until` resolves at the first line that matches, and
 * rejects when `ended` (a child's exit) settles first, so a test never waits for ever.
 */
export function lineWatcher(
  stream: NodeJS.ReadableStream,
  ended: Promise<unknown>,
): { lines: string[]; until: (pattern: RegExp) => Promise<string> } {
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const gone = ended.then(() =>
    Promise.reject(new Error(`a process ended before a line matched; last lines: ${lines.slice(-5).join(' | ')}`)),
  );
  gone.catch(() => undefined);
  createInterface({ input: stream }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiting]) {
      if (waiter.pattern.test(line)) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    lines,
    until: (pattern) => {
      const seen = lines.find((line) => pattern.test(line));
      return seen !== undefined
        ? Promise.resolve(seen)
        : Promise.race([new Promise<string>((resolve) => waiting.push({ pattern, resolve })), gone]);
    },
  };
}
