import { isIP } from "node:net";

/**
 * Whether binding `host` keeps the service on this machine: `localhost`, `127.0.0.0/8`, `::1` (and
 * its IPv4-mapped form). The wildcards `0.0.0.0` and `::` are not loopback; neither is any other
 * name, since what it resolves to is not ours to know.
 *
 * @example
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("0.0.0.0"); // false
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost") return true;
  const version = isIP(name);
  if (version === 4) return name.startsWith("127.");
  if (version !== 6) return false;
  // The URL parser writes an IPv6 address in one canonical form (`0:0::1` → `::1`, `::ffff:127.0.0.1` → `::ffff:7f00:1`).
  if (name.includes("%")) return false; // a zone id (`fe80::1%eth0`) names a link, never loopback
  const canonical = new URL(`http://[${name}]/`).hostname;
  return canonical === "[::1]" || canonical.startsWith("[::ffff:7f");
}
