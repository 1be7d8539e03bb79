// Which addresses a media URL may reach: public unicast addresses only (no private, loopback,
// link-local, carrier-grade NAT, multicast, reserved, IPv4 embedded in IPv6 tunnels...), unless the
// operator lists a network in MEDIA_URL_ALLOWED_NETWORKS. Checked on every address a name resolves
// to, at connect time, so a DNS answer cannot point the server at itself.
import ipaddr from 'ipaddr.js'

export type AddressGuard = (address: string) => boolean

export function createAddressGuard(allowedNetworks: readonly string[] = []): AddressGuard {
  const allowed = allowedNetworks.map((n) => (n.includes('/') ? ipaddr.parseCIDR(n) : ([ipaddr.parse(n), ipaddr.parse(n).kind() === 'ipv4' ? 32 : 128] as const)))
  return (address) => {
    if (!ipaddr.isValid(address)) return false
    let addr = ipaddr.parse(address)
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address()
    for (const [net, bits] of allowed) if (net.kind() === addr.kind() && addr.match([net, bits] as [typeof addr, number])) return true
    return addr.range() === 'unicast'
  }
}
