// Which client IP to believe, for rate limits and logs. X-Forwarded-For is written by whoever sends
// the request: only the entries added by proxies we run behind can be trusted, counted from the right.
//   off  the TCP peer (the server faces the internet, or the operator does not know its proxies)
//   fly  Fly.io's Fly-Client-IP header, which Fly's proxy sets to the address it accepted the
//        connection from (its own health checks come without it: the TCP peer then)
//   n    n proxy hops in front of the server: the n-th X-Forwarded-For entry from the right. Only
//        safe when nothing can reach the server except through those proxies (a direct client
//        could otherwise write the entries itself); prefer the proxies' addresses when known
//   list the proxies' addresses (IPs, CIDR ranges): entries added by them are trusted, right to left
import { isIP } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { normalizeIP } from '@fastify/rate-limit'
import type { TrustProxy } from '../config.js'

/** Fastify's trustProxy option for this setting (request.ip follows it). */
export function fastifyTrustProxy(trustProxy: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  // Hop 0 is the TCP peer, hop 1 the right-most X-Forwarded-For entry, and so on.
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy
  if (Array.isArray(trustProxy)) return [...trustProxy]
  return false
}

/** The client's address under this setting. */
export function clientIpResolver(trustProxy: TrustProxy): (request: Pick<FastifyRequest, 'ip' | 'headers'>) => string {
  if (trustProxy !== 'fly') return (request) => request.ip
  return (request) => {
    const header = request.headers['fly-client-ip']
    return typeof header === 'string' && isIP(header) !== 0 ? header : request.ip
  }
}

/**
 * The rate-limit bucket of an address: IPv4 as is, IPv6 by its /64 prefix, since one host usually
 * owns a whole /64 and could otherwise rotate through it.
 */
export const ipBucket = (ip: string): string => normalizeIP(ip, 64)
