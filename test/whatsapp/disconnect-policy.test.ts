// The disconnect policy without a socket: every close code and situation maps to one action.
import t from 'tap'
import { DisconnectReason } from '@whiskeysockets/baileys'
import { CLOSE_CODES, closeAction, closeCode, MAX_IMMEDIATE_RESTARTS, type CloseSituation } from '../../src/whatsapp/disconnect-policy.js'

const linked: CloseSituation = { code: null, stopping: false, mayConnect: true, linking: false, restarts: 0 }

t.test('the close codes are Baileys\' own', async (t) => {
  t.equal(CLOSE_CODES.loggedOut, DisconnectReason.loggedOut)
  t.equal(CLOSE_CODES.connectionReplaced, DisconnectReason.connectionReplaced)
  t.equal(CLOSE_CODES.restartRequired, DisconnectReason.restartRequired)
})

t.test('close code -> action', async (t) => {
  const cases: Array<[string, Partial<CloseSituation>, string]> = [
    ['515 after a pairing: a new socket at once', { code: 515, linking: true }, 'restart'],
    ['515 again, within the bound', { code: 515, restarts: MAX_IMMEDIATE_RESTARTS - 1 }, 'restart'],
    ['515 once too often: back off', { code: 515, restarts: MAX_IMMEDIATE_RESTARTS }, 'backoff'],
    ['401 on a linked session: wipe and offer a new QR', { code: 401 }, 'wipe'],
    ['401 while linking: nothing to wipe, back off', { code: 401, linking: true }, 'backoff'],
    ['440 replaced: wait for an operator', { code: 440 }, 'replaced'],
    ['408 lost', { code: 408 }, 'backoff'],
    ['428 closed', { code: 428 }, 'backoff'],
    ['500 bad session', { code: 500 }, 'backoff'],
    ['503 unavailable', { code: 503 }, 'backoff'],
    ['no code at all', { code: null }, 'backoff'],
    ['stop() was called: nothing, whatever the code', { code: 401, stopping: true }, 'stop'],
    ['the lease is gone: nothing, whatever the code', { code: 515, mayConnect: false }, 'stop'],
    ['replaced while the lease is gone: still nothing', { code: 440, mayConnect: false }, 'stop'],
  ]
  for (const [what, situation, action] of cases) t.equal(closeAction({ ...linked, ...situation }), action, what)
})

t.test('closeCode reads Boom\'s status code and nothing else', async (t) => {
  t.equal(closeCode({ output: { statusCode: 428 } }), 428)
  t.equal(closeCode(new Error('plain')), null)
  t.equal(closeCode({ output: { statusCode: '428' } }), null)
  t.equal(closeCode(undefined), null)
})
