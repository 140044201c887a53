import { isIP } from "node:net";
import { ServiceError } from "./serviceError.js";

const hostHeader = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const hostName = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*$/i;

/**
 * The `Host` allow-list, against DNS rebinding: a web page whose name an attacker points at this
 * machine (or at a service on its network) sends that name as `Host`, and is refused. Allowed are
 * `localhost`, IP literals (a rebinding needs a name; a browser that sends an IP literal loaded the
 * page from that very address, and probes of load balancers and orchestrators come this way), and
 * the names configured (the service's public names), each with any port.
 *
 * @example
 * const allows = createHostCheck(["api.example.com"]);
 * allows("api.example.com:443"); // true
 * allows("evil.example:3000"); // false
 * @throws ServiceError `INVALID_CONFIG` for a configured entry that is not a host name.
 */
export function createHostCheck(allowedHosts: readonly string[]): (host: string | undefined) => boolean {
  const names = new Set(["localhost"]);
  for (const entry of allowedHosts) {
    const name = entry.trim().toLowerCase().replace(/\.$/, "");
    if (!hostName.test(name)) throw new ServiceError("INVALID_CONFIG", `allowed host ${JSON.stringify(entry)} must be a host name (no scheme, port or path)`);
    names.add(name);
  }
  return (host) => {
    if (host === undefined || !hostHeader.test(host)) return false;
    const name = host
      .toLowerCase()
      .replace(/:\d+$/, "")
      .replace(/\.$/, "");
    return names.has(name) || isIP(name.replace(/^\[(.*)\]$/, "$1")) !== 0;
  };
}
