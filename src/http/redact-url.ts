// Request URLs are logged; a caller who puts a secret in the query string (?api_key=..., ?token=...)
// must not find it in the logs. The values of key-like query parameters are replaced; the rest of the
// URL is kept byte for byte.

/** Parameter names that carry secrets, compared lower-case with "-" and "_" removed. */
const SECRET_NAME = /key|token|secret|pass|pwd|auth|sig|credential|cookie|session/

const CENSOR = '[redacted]'

function nameOf(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

/** The URL with the values of secret-looking query parameters replaced by [redacted]. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq === -1 ? pair : pair.slice(0, eq)
    if (!SECRET_NAME.test(nameOf(name).toLowerCase().replace(/[-_\s]/g, ''))) return pair
    return `${name}=${CENSOR}`
  })
  return `${url.slice(0, q)}?${pairs.join('&')}`
}
