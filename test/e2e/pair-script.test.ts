// End to end: `npm run pair` (scripts/pair.ts) as a child process against the fake, in Postgres mode.
// The script prints a QR, the fake phone scans it, the script exits 0, and the session is stored: the
// app then opens from the database without a QR.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  ACCOUNT_PN,
  CLIENT_ID,
  migratedDatabase,
  mirrorFile,
  prepareProcess,
  startApp,
  startFake,
  storedInDb,
  tempDir,
  waitForState,
} from './harness.js'

const enforced = prepareProcess()
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

t.test('npm run pair links a session against the fake', async (t) => {
  t.ok(enforced, 'signature verification enforced in this process (the script enforces its own)')
  const fake = await startFake(t)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t)

  // What `npm run pair` runs, plus the test preload that trusts the fake's certificate root.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './test/fake-whatsapp/preload.ts', 'scripts/pair.ts', '--raw', '--timeout', '40'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'error',
        DATABASE_URL: db.url,
        SESSION_PATH: sessionPath,
        CLIENT_ID,
        WA_WS_URL: fake.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const stdout: string[] = []
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const qr = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      stdout.push(line)
      const m = /^QR: (\S+)$/.exec(line)
      if (m?.[1]) resolve(m[1])
    })
    void exited.then(({ code }) => reject(new Error(`pair exited (${code}) before printing a QR:\n${stdout.join('\n')}\n${stderr}`)))
  })
  t.match(stdout.join('\n'), /Linking session "e2e" \(postgres storage/, 'the script says where it stores the session')
  t.ok(stdout.some((l) => /[▀▄█]/.test(l)), 'and draws the QR for a human')

  await fake.scanQR(qr)
  const { code, signal } = await exited
  t.equal(code, 0, `the script exits 0${code === 0 ? '' : `:\n${stderr}`}`)
  t.equal(signal, null)
  t.match(stdout.join('\n'), new RegExp(`Linked as ${ACCOUNT_PN}:7@s\\.whatsapp\\.net; session "e2e" saved \\(postgres storage\\)`), 'and says it linked')

  const stored = await storedInDb(db.sql)
  t.same(stored.row, { status: 'active', jid: `${ACCOUNT_PN}:7@s.whatsapp.net` }, 'the session row is in Postgres')
  t.equal(stored.keys['pre-key'], 812, 'with its 812 pre-keys')
  t.ok(existsSync(mirrorFile(sessionPath)), 'and its mirror file')
  t.equal(fake.liveConnections(), 0, 'the script closed its connection')

  // The server picks the linked session up: open from the stored credentials, no QR.
  const { app } = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  const { seen, status } = await waitForState(app, 'open')
  t.notOk(seen.includes('qr'), `the server opens without a QR (${seen.join(' -> ')})`)
  t.equal(status.account?.jid, `${ACCOUNT_PN}:7@s.whatsapp.net`)
  t.same(fake.errors(), { internal: [], decrypt: [], unhandledIqs: [] })
})
