/**
 * Secret redaction: every line a bin prints to stderr, and every error message, passes through
 * a redactor built from the secrets in the config. The secret is replaced as written and in its
 * URL-encoded and JSON-escaped forms, so it cannot slip out through an echoed URL or body.
 */

export type Redactor = (text: string) => string;

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not searched for: replacing "a" everywhere would garble logs. */
const MIN_SECRET_LENGTH = 4;

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
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
