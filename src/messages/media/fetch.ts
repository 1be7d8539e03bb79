// Fetches a media URL for POST /send: https only, every resolved address checked by the guard before
// connecting, redirects followed up to a bound (each one checked again), the whole transfer bounded
// in time, and a declared Content-Length over the limit refused before reading. The caller reads the
// body (spool.ts counts the bytes against the limit as they arrive).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { Agent, request, type AgentOptions } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { isIP, type LookupFunction } from 'node:net'
import { MessageError } from '../errors.js'
import type { AddressGuard } from './guard.js'

export interface MediaFetchOptions {
  guard: AddressGuard
  timeoutMs: number
  maxRedirects: number
  maxBytes: number
  /** TLS options of the fetcher's own agent (tests trust a local certificate through it). */
  agentOptions?: AgentOptions
}

export interface FetchedMedia {
  body: IncomingMessage
  contentType: string | null
  /** Aborts the transfer (also done by the timeout). */
  abort(): void
}

const refused = (reason: string) => new MessageError('MEDIA_URL_REFUSED', reason)
const failed = (reason: string, cause?: unknown) => new MessageError('MEDIA_FETCH_FAILED', reason, { reason }, { cause })

class RefusedAddressError extends Error {}

export function createMediaFetcher(options: MediaFetchOptions) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ...options.agentOptions })
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0)
      const bad = addresses.find((a) => !options.guard(a.address))
      if (bad || addresses.length === 0) return callback(new RefusedAddressError('resolves to an address that is not public'), '', 0)
      if (lookupOptions.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      callback(null, addresses[0].address, addresses[0].family)
    })
  }

  function get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(url, {
        agent,
        lookup: guardedLookup,
        signal,
        headers: { accept: '*/*', 'user-agent': 'whatsapp-backend media fetcher' },
      })
      req.once('response', resolve)
      req.once('error', reject)
      req.end()
    })
  }

  /** Opens the URL (following redirects); the caller consumes `body` before the timeout. */
  async function open(input: string, clock: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void }): Promise<FetchedMedia> {
    const controller = new AbortController()
    const timer = clock.setTimeout(() => controller.abort(new Error('timeout')), options.timeoutMs)
    const stop = () => {
      clock.clearTimeout(timer)
    }
    let url: URL
    try {
      url = new URL(input)
    } catch {
      stop()
      throw refused('The media URL is not a valid URL.')
    }
    try {
      for (let redirects = 0; ; redirects++) {
        if (url.protocol !== 'https:') throw refused(`Only https URLs are fetched (got ${url.protocol}).`)
        const host = url.hostname.replace(/^\[|\]$/g, '')
        if (isIP(host) && !options.guard(host)) throw refused('The media URL points at an address that is not public.')
        let res: IncomingMessage
        try {
          res = await get(url, controller.signal)
        } catch (err) {
          if (err instanceof RefusedAddressError) throw refused('The media URL resolves to an address that is not public.')
          if (controller.signal.aborted) throw failed(`no complete answer within ${options.timeoutMs} ms`, err)
          throw failed(`could not connect (${(err as NodeJS.ErrnoException).code ?? 'network error'})`, err)
        }
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume()
          if (redirects >= options.maxRedirects) throw failed(`more than ${options.maxRedirects} redirects`)
          url = new URL(res.headers.location, url)
          continue
        }
        if (status < 200 || status >= 300) {
          res.resume()
          throw failed(`the URL answered HTTP ${status}`)
        }
        const length = Number(res.headers['content-length'])
        if (Number.isFinite(length) && length > options.maxBytes) {
          res.destroy()
          throw new MessageError('MEDIA_TOO_LARGE', `The media URL announces ${length} bytes; the limit is ${options.maxBytes}.`, { maxBytes: options.maxBytes })
        }
        res.once('close', stop)
        return {
          body: res,
          contentType: typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : null,
          abort: () => controller.abort(new Error('aborted')),
        }
      }
    } catch (err) {
      stop()
      throw err
    }
  }

  return { open, close: () => agent.destroy() }
}

export type MediaFetcher = ReturnType<typeof createMediaFetcher>
