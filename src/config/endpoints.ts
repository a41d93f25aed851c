/**
 * Where the bins may send credentials: https to any host, plain http only to this machine (the
 * simulator, the emulators). Pure checks that return the problem as a sentence naming the field.
 */

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * The problem with an endpoint URL, or undefined: it must parse, be https unless its host is
 * loopback, and carry no user or password; `hostOnly` also refuses a path, query or fragment
 * (the bin adds its own path). `what` names the field, `carries` what would travel in cleartext.
 */
export function endpointProblem(url: string, what: string, carries: string, options: { hostOnly: boolean }): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${what} must be a URL such as https://example.com`;
  }
  if (parsed.username || parsed.password) return `${what} must not hold a user name or password; put credentials in their own settings`;
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return `${what} must be an https:// URL (got ${parsed.protocol.slice(0, 20)}//)`;
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    return `${what} must use https:// for ${parsed.hostname}: over http the ${carries} would travel in cleartext (http is allowed for this machine only: 127.0.0.1, ::1, localhost)`;
  }
  if (options.hostOnly && ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash)) {
    // The rest of the URL is not shown: a pasted URL may carry a token in its query.
    return `${what} must be a scheme and host (and port) only, such as ${parsed.protocol}//${parsed.host}, without a path, query or fragment`;
  }
  return undefined;
}
