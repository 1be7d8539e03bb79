// One webhook POST over keep-alive connections (one agent per protocol for the whole server), bounded
// by an AbortSignal. The response body is drained and dropped: only the status and Retry-After matter.
import http from 'node:http'
import https from 'node:https'

export type PostOutcome =
  | { kind: 'response'; status: number; retryAfter?: string }
  | { kind: 'error'; error: string }

export interface Poster {
  post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, stop?: AbortSignal): Promise<PostOutcome>
  close(): void
}

const USER_AGENT = 'whatsapp-backend-webhooks/1'

export function createPoster(options: { maxSockets?: number; tls?: https.AgentOptions } = {}): Poster {
  const maxSockets = options.maxSockets ?? 256
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets, ...options.tls }),
  }
  function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, stop?: AbortSignal): Promise<PostOutcome> {
    const payload = Buffer.from(body)
    const transport = url.protocol === 'https:' ? https : http
    return new Promise((resolve) => {
      // One timeout signal per request; the long-lived stop signal gets a listener removed at the end
      // (AbortSignal.any would keep every request's signal alive as long as the stop signal lives).
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = timeout
      const req = transport.request(url, {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        signal,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length), 'user-agent': USER_AGENT },
      }, (res) => {
        const status = res.statusCode ?? 0
        const retryAfter = res.headers['retry-after']
        res.on('error', () => undefined)
        res.resume()
        res.on('end', () => resolve({ kind: 'response', status, ...(retryAfter ? { retryAfter } : {}) }))
        res.on('close', () => resolve({ kind: 'response', status, ...(retryAfter ? { retryAfter } : {}) }))
      })
      const onStop = () => req.destroy(new Error('stopped'))
      stop?.addEventListener('abort', onStop, { once: true })
      req.on('close', () => stop?.removeEventListener('abort', onStop))
      req.on('error', (err: NodeJS.ErrnoException) => {
        resolve({ kind: 'error', error: timeout.aborted ? 'timeout' : stop?.aborted ? 'stopped' : (err.code ?? err.name ?? 'connection error') })
      })
      req.end(payload)
    })
  }
  return {
    post,
    close() {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  }
}
