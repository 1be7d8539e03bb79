// Secrets stay out of the logs: API keys (either header), QR strings, session contents.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { buildApp, REDACT_PATHS } from '../../src/app.js'
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
