// npm run pair -- [--png FILE] [--raw] [--phone NUMBER] [--timeout SECONDS] [--client-id ID]
// Scripted linking for operators: opens the session with the server's own configuration (same env
// vars, same storage), prints the QR in the terminal (or a pairing code with --phone), and exits 0
// once the session is open and saved. Non-zero, with a sentence, on timeout or when replaced.
// Two connections on one account replace each other, so it refuses to run while another process has the
// session: in Postgres mode it holds the session lease like the server (and says which instance holds it
// otherwise); in file mode it takes the session folder's lock.
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { ConfigError, loadConfig } from '../src/config.js'
import { createSessionStore } from '../src/keystore/index.js'
import { acquireFolderLock, createLeaseService, type FolderLock, type LeaseService } from '../src/lease/index.js'
import { enforceSignatureVerification } from '../src/whatsapp/signature-verification.js'
import { assertClientId } from '../src/lib/client-id.js'
import { qrPng, qrTerminal } from '../src/whatsapp/qr-image.js'
import { Session } from '../src/whatsapp/session.js'

const USAGE = 'usage: npm run pair -- [--png FILE] [--raw] [--phone NUMBER] [--timeout SECONDS] [--client-id ID]'

function fail(message: string, code = 1): never {
  console.error(`pair: ${message}`)
  process.exit(code)
}

async function main(): Promise<void> {
  let args
  try {
    args = parseArgs({
      options: {
        png: { type: 'string' },
        // Also print the QR's text on a line "QR: <text>", for another program to render or scan.
        raw: { type: 'boolean' },
        phone: { type: 'string' },
        timeout: { type: 'string', default: '180' },
        'client-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2)
  }
  if (args.help) {
    console.log(USAGE)
    return
  }
  const timeoutSeconds = Number(args.timeout)
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 10) fail('--timeout must be a whole number of seconds, at least 10', 2)

  let config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message)
    throw err
  }
  const clientId = args['client-id'] ?? config.clientId
  try {
    assertClientId(clientId)
  } catch (err) {
    fail((err as Error).message, 2)
  }
  enforceSignatureVerification()
  // The operator watches the terminal: progress is printed as sentences; JSON logs only for errors
  // unless LOG_LEVEL asks for more.
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'error' }, pino.destination(2))
  for (const notice of config.notices) logger.warn(notice)

  const store = await createSessionStore({
    sessionPath: config.sessionPath,
    databaseUrl: config.databaseUrl,
    encryptionKey: config.encryptionKey,
    logger,
  })
  let lease: LeaseService | null = null
  let lock: FolderLock | null = null
  try {
    if (store.mode === 'postgres' && config.lease.enabled && config.databaseUrl) {
      lease = createLeaseService({ databaseUrl: config.databaseUrl, owner: config.lease.owner, ttlMs: config.lease.ttlMs, logger })
      const row = await lease.manager.read(clientId)
      if (row?.live) {
        throw new Error(`instance ${row.owner} runs session "${clientId}" (lease until ${row.expiresAt.toISOString()}): pair through its API (GET /api/whatsapp/qr), or stop it and retry.`)
      }
    } else if (store.mode === 'file') {
      lock = await acquireFolderLock(config.sessionPath, { logger })
    }
  } catch (err) {
    await lease?.close()
    await store.close()
    fail((err as Error).message)
  }
  console.log(`Linking session "${clientId}" (${store.mode} storage, ${config.sessionPath}); waiting up to ${timeoutSeconds} s.`)
  const leaseManager = lease?.manager
  const session = new Session({
    clientId,
    openHandle: (options) => store.open(clientId, options),
    ...(leaseManager ? { lease: (handlers) => leaseManager.hold(clientId, handlers) } : {}),
    logger,
    reconnect: config.reconnect,
    qrTimeoutMs: config.qrTimeoutMs,
    waWsUrl: config.waWsUrl,
  })

  const finish = async (code: number, message: string) => {
    clearTimeout(timer)
    await session.stop()
    await lease?.close()
    await lock?.release()
    await store.close()
    if (code === 0) console.log(message)
    else console.error(`pair: ${message}`)
    process.exit(code)
  }
  const timer = setTimeout(() => {
    const last = session.status().lastDisconnect
    const why = session.state === 'standby'
      ? 'the session lease could not be taken (is the database reachable? does another instance hold it?)'
      : session.state === 'reconnecting' || session.state === 'connecting'
        ? `WhatsApp could not be reached (last error: ${last?.reason ?? 'none'}); check this machine's network`
        : `no scan or code entry arrived (state: ${session.state}); scan faster or pass a longer --timeout`
    void finish(1, `timed out after ${timeoutSeconds} s without a link: ${why}.`)
  }, timeoutSeconds * 1000)
  process.once('SIGINT', () => void finish(130, 'interrupted'))

  let pairingRequested = false
  session.on('qr', (expiresAt) => {
    const qr = session.qr()
    if (!qr) return
    if (args.phone) {
      if (pairingRequested) return
      pairingRequested = true
      session.requestPairingCode(args.phone).then(
        (code) => console.log(`\nPairing code: ${code}\nOn the phone: WhatsApp > Linked devices > Link a device > Link with phone number instead.\n`),
        (err: Error) => void finish(1, `could not get a pairing code: ${err.message}`),
      )
      return
    }
    void (async () => {
      console.log(`\nScan with WhatsApp > Linked devices > Link a device (valid until ${expiresAt.toLocaleTimeString()}):\n`)
      console.log(await qrTerminal(qr.value))
      if (args.raw) console.log(`QR: ${qr.value}`)
      if (args.png) {
        await writeFile(args.png, await qrPng(qr.value))
        console.log(`QR also written to ${args.png}`)
      }
    })()
  })
  session.on('open', ({ jid, newLogin }) => {
    void finish(0, `${newLogin ? 'Linked' : 'Already linked'} as ${jid}; session "${clientId}" saved (${store.mode} storage).`)
  })
  session.on('replaced', () => void finish(1, 'another connection (a running server?) uses this account; stop it and retry.'))
  session.on('loggedOut', () => console.log('The phone logged this device out; stored data wiped, new QR coming.'))
  session.on('state', (state) => {
    if (state === 'reconnecting') console.log(`Connecting to WhatsApp failed (${session.status().lastDisconnect?.reason ?? 'unknown'}); retrying...`)
  })
  await session.start()
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)))
