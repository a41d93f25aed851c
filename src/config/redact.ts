/**
 * Secret redaction: every line a bin prints to stderr, and every error message, passes through
 * a redactor built from the secrets in the config. The secret is replaced as written and in its
 * URL-encoded, JSON-escaped (once and twice) and base64 forms, so it cannot slip out through an
 * echoed URL, body or header.
 */

export type Redactor = (text: string) => string;

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not searched for: replacing "a" everywhere would garble logs. */
const MIN_SECRET_LENGTH = 4;

/** A line of a multi-line secret this long is a secret on its own (a PEM key's lines are 64). */
const MIN_SECRET_LINE_LENGTH = 16;

/**
 * A multi-line secret (a PEM private key, a pretty-printed credentials file) as given, with `\n`
 * escapes made newlines (as the Snowflake key is read), and each long line on its own: an error
 * that quotes one line, or folds the lines into one, must not show it either.
 */
function secretParts(secret: string): string[] {
  if (!/\r?\n|\\n/.test(secret)) return [secret];
  const lines = secret.split(/\r?\n|\\n/).map((line) => line.trim());
  return [
    secret,
    secret.replace(/\\n/g, '\n'),
    ...lines.filter((line) => line.length >= MIN_SECRET_LINE_LENGTH && !/^-----(BEGIN|END) /.test(line)),
  ];
}

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets.flatMap((value) => (typeof value === 'string' ? secretParts(value) : []))) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    const escaped = JSON.stringify(secret).slice(1, -1);
    forms.add(escaped);
    // Escaped twice (a JSON string inside a JSON string), and base64 (a server echoing a header).
    forms.add(JSON.stringify(escaped).slice(1, -1));
    forms.add(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    forms.add(Buffer.from(secret).toString('base64url'));
  }
  // Longest first, so that a secret containing another is replaced whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let result = text;
    for (const form of ordered) result = result.split(form).join(REDACTED);
    return result;
  };
}
