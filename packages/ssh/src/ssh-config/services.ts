/**
 * Service names as ports (`Port ssh`, `ProxyJump gw:ssh`): OpenSSH's a2port falls back to
 * getservbyname(3), which Node does not offer, so /etc/services is read — once, and only by
 * a config that names a port by name.
 */
import { readFileSync } from 'node:fs';

/** Where getservbyname's "files" source reads. */
const SERVICES_FILE = '/etc/services';

let tcpPorts: Map<string, number> | undefined;

/** name and aliases → port, for the tcp lines of a services(5) file (missing file: none). */
function readServices(file: string): Map<string, number> {
  const ports = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return ports;
  }
  for (const line of text.split('\n')) {
    const [name, portProto, ...aliases] = (line.split('#')[0] ?? '').trim().split(/\s+/);
    const match = /^(\d+)\/tcp$/.exec(portProto ?? '');
    if (name === undefined || name === '' || match === null) continue;
    // the first line naming a service wins, as getservbyname returns the first match
    for (const alias of [name, ...aliases]) {
      if (!ports.has(alias)) ports.set(alias, Number(match[1]));
    }
  }
  return ports;
}

/** The tcp port of a service name (case-sensitive, as getservbyname), or undefined if unknown. */
export function servicePort(name: string): number | undefined {
  tcpPorts ??= readServices(SERVICES_FILE);
  return tcpPorts.get(name);
}
