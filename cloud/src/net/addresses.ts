/**
 * @module The addresses an owner's outbound traffic may not reach: a webhook, a callback or an SMTP server
 * named by an owner must not turn the cloud into a proxy into its own network (server-side request forgery).
 * Refused unless the cloud is configured to allow them: unspecified, loopback, private (RFC 1918, RFC 4193),
 * shared (RFC 6598), link-local (the cloud metadata address 169.254.169.254 among them), benchmarking and
 * documentation ranges, NAT64 and 6to4 relays, multicast and reserved space (the IANA special-purpose
 * registries, RFC 6890). One list for every part that connects out (notification channels, composite-stream
 * callbacks).
 */
import { BlockList, isIP } from 'node:net';

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv6');

/** Whether an IP address is a public one, which an owner's outbound traffic may reach; anything else (a name, garbage) is not. */
export function isPublicAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged by the IPv4 rules.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return !BLOCKED.check(mapped[1]!, 'ipv4');
  const v = isIP(address);
  return v !== 0 && !BLOCKED.check(address, v === 4 ? 'ipv4' : 'ipv6');
}
