// Secrets stay out of the logs: API keys (either header or the query string), QR strings, session contents.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { buildApp, createLogger, REDACT_PATHS } from '../../src/app.js'
import { redactUrl } from '../../src/http/redact-url.js'
import { testConfig } from './helpers.js'

t.test('request logs carry request ids and no API key', async (t) => {
  const KEY = 'super-secret-api-key-1234567890'
  let out = ''
  const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb() } })
  const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink)
  const app = await buildApp({ config: await testConfig(t, { API_KEY: KEY, LOG_LEVEL: 'trace' }), logger })
  t.teardown(() => app.close())
  await app.inject({ url: '/api/whatsapp/status', headers: { authorization: `Bearer ${KEY}` } })
  await app.inject({ url: '/api/whatsapp/status', headers: { 'x-api-key': KEY } })
  await app.inject({ url: '/api/whatsapp/status', headers: { 'x-api-key': 'wrong-key' } })
  t.match(out, /"reqId":/)
  t.notMatch(out, new RegExp(KEY))
  logger.info({ qr: '2@secret-qr', creds: { noiseKey: 'x' }, req: { headers: { authorization: 'Bearer abc' } } }, 'probe')
  t.notMatch(out, /secret-qr|noiseKey|Bearer abc/)
  t.match(out, /\[redacted\]/)
})

t.test('secrets in query strings are cut out of logged URLs', async (t) => {
  let out = ''
  const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb() } })
  const config = await testConfig(t, { LOG_LEVEL: 'info' })
  const app = await buildApp({ config, logger: createLogger(config, sink), startDefaultSession: false })
  t.teardown(() => app.close())
  const secrets = ['sk-live-AAAA', 'tok-BBBB', 'pw-CCCC', 'sig-DDDD', 'sess-EEEE']
  await app.inject(`/api/whatsapp/status?api_key=${secrets[0]}&clientId=shop-1`)
  await app.inject(`/nope?access_token=${secrets[1]}&Password=${secrets[2]}&x-signature=${secrets[3]}&sessionToken=${secrets[4]}`)
  await app.inject(`/api/whatsapp/%ff?apikey=${secrets[0]}`)
  t.match(out, /"url":"\/api\/whatsapp\/status\?api_key=\[redacted\]&clientId=shop-1"/, 'other parameters are kept as they were')
  for (const secret of secrets) t.notMatch(out, secret, `${secret} is not logged`)
})

t.test('redactUrl keeps URLs without secrets byte for byte', async (t) => {
  for (const url of ['/health', '/api/whatsapp/qr?format=png&clientId=a%20b', '/x?', '/x?a&b=&=c']) t.equal(redactUrl(url), url)
  t.equal(redactUrl('/x?API-KEY=1&token&b=2'), '/x?API-KEY=[redacted]&token=[redacted]&b=2')
  t.equal(redactUrl('/x?%61pi_key=1'), '/x?%61pi_key=[redacted]', 'percent-encoded names too')
})
