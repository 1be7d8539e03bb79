// What a webhook target may be: an http(s) URL without credentials, on an allowed host when the
// operator set an allow-list; custom headers that cannot change how the request is framed or signed.
// The URL may otherwise point anywhere the server can reach: the operator (or an API key holder)
// chooses it, so WEBHOOK_ALLOWED_HOSTS is the guard for hosted setups.
import { WebhookError } from './errors.js'

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-type', 'expect',
])
/** Headers the server sets itself: the consumer must be able to trust them. */
const RESERVED = new Set(['authorization', 'x-api-key', 'cookie', 'user-agent'])
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,1000}$/
export const MAX_CUSTOM_HEADERS = 20

/** Whether host matches an allow-list entry: exact, or `*.example.com` for any subdomain. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return allowed.some((entry) => {
    const e = entry.toLowerCase()
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e
  })
}

/** The URL, parsed and checked; throws WebhookError WEBHOOK_URL_REFUSED saying why. */
export function checkTargetUrl(text: string, allowedHosts: readonly string[]): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new WebhookError('WEBHOOK_URL_REFUSED', 'The webhook URL cannot be parsed; give an absolute http(s) URL.', { reason: 'unparsable' })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookError('WEBHOOK_URL_REFUSED', 'The webhook URL must use http or https.', { reason: 'scheme' })
  }
  if (url.username !== '' || url.password !== '') {
    throw new WebhookError('WEBHOOK_URL_REFUSED', 'The webhook URL must not carry credentials (user:password@); use headers or the signature instead.', { reason: 'credentials' })
  }
  if (allowedHosts.length > 0 && !hostAllowed(url.hostname, allowedHosts)) {
    throw new WebhookError('WEBHOOK_URL_REFUSED', 'The webhook URL\'s host is not in WEBHOOK_ALLOWED_HOSTS.', { reason: 'host_not_allowed', host: url.hostname })
  }
  return url
}

/** Custom headers with lower-case names; throws WEBHOOK_HEADER_REFUSED naming the first bad one. */
export function checkCustomHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  const names = Object.keys(headers)
  if (names.length > MAX_CUSTOM_HEADERS) {
    throw new WebhookError('WEBHOOK_HEADER_REFUSED', `At most ${MAX_CUSTOM_HEADERS} custom headers.`, { reason: 'too_many' })
  }
  for (const name of names) {
    const lower = name.toLowerCase()
    const refuse = (reason: string) => {
      throw new WebhookError('WEBHOOK_HEADER_REFUSED', `The custom header "${name}" is refused (${reason}).`, { header: name, reason })
    }
    if (!HEADER_NAME.test(name)) refuse('not a valid header name')
    if (HOP_BY_HOP.has(lower)) refuse('hop-by-hop or framing header')
    if (lower.startsWith('webhook-')) refuse('the webhook-* headers carry the signature')
    if (RESERVED.has(lower)) refuse('set by the server')
    if (!HEADER_VALUE.test(headers[name])) refuse('invalid value')
    out[lower] = headers[name]
  }
  return out
}
