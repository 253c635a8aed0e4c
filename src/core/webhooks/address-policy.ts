import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { BuildflowError } from '../errors.js';

// Where a webhook must never be sent unless private addresses are allowed: the host itself,
// its networks, link-local (cloud metadata at 169.254.169.254 / fd00:ec2::254 included), and
// addresses that are no unicast destination at all.
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, if it is one. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True when `address` (an IP literal) is loopback, private, link-local, unique-local, metadata or not unicast. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  if (v4) return FORBIDDEN.check(v4, 'ipv4');
  return FORBIDDEN.check(address, 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Resolves `host` (every address it has) and refuses it if any address is forbidden: one bad
 * answer among good ones is how a rebinding attack hides. With `allowPrivate` nothing is refused.
 * @throws BuildflowError WEBHOOK_URL_FORBIDDEN, or WEBHOOK_URL_INVALID when the name does not resolve.
 */
export async function resolveAllowed(host: string, allowPrivate: boolean): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal) addresses = [{ address: host, family: literal as 4 | 6 }];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })) as ResolvedAddress[];
    } catch (err) {
      throw new BuildflowError('WEBHOOK_URL_INVALID', `the webhook host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (addresses.length === 0) throw new BuildflowError('WEBHOOK_URL_INVALID', `the webhook host ${host} has no address`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) {
      throw new BuildflowError(
        'WEBHOOK_URL_FORBIDDEN',
        `the webhook host ${host} resolves to ${bad.address}, a loopback, private, link-local or metadata address (allowed only where the server is set up so: BUILDFLOW_WEBHOOK_ALLOW_PRIVATE=1 in the environment of buildflow serve and buildflow worker, not of this client)`,
      );
    }
  }
  return addresses;
}

/**
 * Checks a webhook URL as given by a user: absolute http(s), no credentials, and a host whose
 * addresses are all allowed.
 * @throws BuildflowError WEBHOOK_URL_INVALID or WEBHOOK_URL_FORBIDDEN
 */
export async function checkWebhookUrl(value: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BuildflowError('WEBHOOK_URL_INVALID', `"${value.slice(0, 200)}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BuildflowError('WEBHOOK_URL_INVALID', `webhook URLs must be http or https, not ${url.protocol.replace(':', '')}`);
  }
  if (url.username || url.password) throw new BuildflowError('WEBHOOK_URL_INVALID', 'webhook URLs must not carry a user name or password');
  await resolveAllowed(hostOf(url), allowPrivate);
  return url;
}
