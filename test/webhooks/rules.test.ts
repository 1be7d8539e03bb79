// The pure rules of webhook delivery: what an answer means, Retry-After, targets, headers, filters, secrets.
import t from 'tap'
import { classify, MAX_RETRY_AFTER_MS, retryAfterMs } from '../../src/webhooks/classify.js'
import { matchesFilter } from '../../src/webhooks/filter.js'
import { generateSecret, isValidSecret, maskSecret } from '../../src/webhooks/secret.js'
import { checkCustomHeaders, checkTargetUrl, hostAllowed } from '../../src/webhooks/target.js'
import { WebhookError } from '../../src/webhooks/errors.js'

const backoff = { baseMs: 1000, maxMs: 60_000 }

t.test('classify: 2xx delivered, 5xx/408/429/errors retried with backoff, other answers final', async (t) => {
  for (const status of [200, 201, 204, 299]) t.same(classify({ kind: 'response', status }, 0, backoff, 0), { kind: 'delivered' })
  for (const status of [500, 502, 503, 408, 429]) t.equal(classify({ kind: 'response', status }, 0, backoff, 0).kind, 'retry', String(status))
  for (const status of [301, 400, 401, 403, 404, 410, 422]) t.same(classify({ kind: 'response', status }, 0, backoff, 0), { kind: 'final', error: `HTTP ${status}`, status })
  t.same(classify({ kind: 'error', error: 'ECONNREFUSED' }, 3, backoff, 0, () => 0), { kind: 'retry', delayMs: 4000, error: 'ECONNREFUSED', status: null }, 'half the cap at attempt 3 with random 0')
  t.equal((classify({ kind: 'error', error: 'timeout' }, 30, backoff, 0, () => 0.999) as { delayMs: number }).delayMs <= 60_000, true, 'capped')
  const asked = classify({ kind: 'response', status: 429, retryAfter: '120' }, 0, backoff, 0, () => 0)
  t.equal((asked as { delayMs: number }).delayMs, 120_000, 'Retry-After longer than the backoff wins')
  const shorter = classify({ kind: 'response', status: 503, retryAfter: '0' }, 4, backoff, 0, () => 0)
  t.equal((shorter as { delayMs: number }).delayMs, 8000, 'the backoff wins over a shorter Retry-After')
})

t.test('Retry-After: seconds, HTTP dates, garbage, and a bound', async (t) => {
  t.equal(retryAfterMs('5', 0), 5000)
  t.equal(retryAfterMs(new Date(70_000).toUTCString(), 10_000), 60_000)
  t.equal(retryAfterMs(new Date(0).toUTCString(), 10_000), 0)
  t.equal(retryAfterMs('soon', 0), null)
  t.equal(retryAfterMs(undefined, 0), null)
  t.equal(retryAfterMs('999999', 0), MAX_RETRY_AFTER_MS)
})

t.test('targets: http(s) only, no credentials, the allow-list', async (t) => {
  const reason = (url: string, allowed: string[] = []) => {
    try {
      checkTargetUrl(url, allowed)
      return 'ok'
    } catch (err) {
      t.ok(err instanceof WebhookError)
      return (err as WebhookError).details?.reason
    }
  }
  t.equal(reason('https://example.com/hook'), 'ok')
  t.equal(reason('http://10.0.0.5:8080/hook'), 'ok', 'anywhere reachable without an allow-list')
  t.equal(reason('ftp://example.com/'), 'scheme')
  t.equal(reason('javascript:alert(1)'), 'scheme')
  t.equal(reason('/relative'), 'unparsable')
  t.equal(reason('https://u:p@example.com/'), 'credentials')
  t.equal(reason('https://u@example.com/'), 'credentials')
  t.equal(reason('https://hooks.example.com/', ['*.example.com']), 'ok')
  t.equal(reason('https://example.com/', ['*.example.com']), 'host_not_allowed')
  t.equal(reason('https://evilexample.com/', ['*.example.com']), 'host_not_allowed')
  t.equal(reason('https://10.0.0.5/', ['hooks.example.com']), 'host_not_allowed')
  t.ok(hostAllowed('[::1]', ['::1']))
})

t.test('custom headers: lower-cased; hop-by-hop, webhook-*, credentials and too many refused', async (t) => {
  t.same(checkCustomHeaders({ 'X-Tenant': 'acme' }), { 'x-tenant': 'acme' })
  for (const name of ['Connection', 'Transfer-Encoding', 'Host', 'Content-Length', 'Content-Type', 'webhook-signature', 'Webhook-Id', 'Authorization', 'X-Api-Key', 'Cookie', 'bad name']) {
    t.throws(() => checkCustomHeaders({ [name]: 'x' }), WebhookError, name)
  }
  t.throws(() => checkCustomHeaders({ 'x-a': 'line\r\nbreak' }), WebhookError)
  t.throws(() => checkCustomHeaders(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-${i}`, 'v']))), WebhookError)
})

t.test('filters and secrets', async (t) => {
  t.ok(matchesFilter(null, 'session.qr'))
  t.ok(matchesFilter([], 'session.qr'))
  t.ok(matchesFilter(['message.*'], 'message.status'))
  t.notOk(matchesFilter(['message.*'], 'session.status'))
  t.notOk(matchesFilter(['message.received'], 'message.status'))
  t.ok(matchesFilter(['*'], 'session.qr'))
  const s = generateSecret()
  t.ok(isValidSecret(s))
  t.equal(maskSecret(s), `whsec_…${s.slice(-4)}`)
  t.notOk(isValidSecret('whsec_c2hvcnQ='), 'too short')
  t.notOk(isValidSecret('secret'))
})
