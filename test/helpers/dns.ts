/**
 * A DNS outage on demand. No engine makes a name stop resolving, so this replaces `dns.lookup`
 * (which undici's connect calls for a host name, not for an IP) until the returned function
 * restores it. Tests that use it say so.
 */
import dns from 'node:dns';

export function failDnsLookups(): () => void {
  const realLookup = dns.lookup;
  dns.lookup = ((hostname: string, options: unknown, callback?: unknown) => {
    const done = (typeof options === 'function' ? options : callback) as (error: Error) => void;
    process.nextTick(() => done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname })));
  }) as typeof dns.lookup;
  return () => {
    dns.lookup = realLookup;
  };
}
