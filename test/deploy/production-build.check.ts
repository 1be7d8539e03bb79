// Starts the production build the way the Dockerfile does: `npm ci --omit=dev --ignore-scripts` plus the
// Baileys patch, in a clean folder with only what the image holds (package files, dist/, db/,
// scripts/patches), the compiled entry point, NODE_ENV=production, and reaches GET /health. Then SIGTERM
// must shut it down cleanly.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { freePort } from '../helpers/ports.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

if (!existsSync(`${root}src/server.ts`)) {
  t.test('production build', { skip: 'src/server.ts does not exist yet, so dist/src/server.js cannot be built' }, () => {})
} else {
  t.test('npm ci --omit=dev + compiled server answers /health and stops on SIGTERM', { timeout: 200_000 }, async (t) => {
    const app = await mkdtemp(join(tmpdir(), 'wa-prod-'))
    t.teardown(() => rm(app, { recursive: true, force: true }))

    // Build with the repo's own TypeScript straight into the clean folder (the image's build stage).
    const tsc = await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], { cwd: root })
      .then(() => ({ code: 0, out: '' }), (err: { code?: number; stdout?: string }) => ({ code: err.code ?? 1, out: err.stdout ?? '' }))
    t.equal(tsc.code, 0, 'tsc -p tsconfig.build.json succeeds (the image build runs it)', { diagnostics: tsc.out.slice(0, 4000) })
    if (!existsSync(join(app, 'dist/src/server.js'))) {
      t.fail('dist/src/server.js was not emitted')
      return
    }

    // The runtime stage: package files, production dependencies only, no install scripts; db/ and run.mjs.
    for (const f of ['package.json', 'package-lock.json']) await cp(join(root, f), join(app, f))
    await cp(join(root, 'db'), join(app, 'db'), { recursive: true })
    await mkdir(join(app, 'scripts'))
    await cp(join(root, 'scripts/run.mjs'), join(app, 'scripts/run.mjs'))
    await cp(join(root, 'scripts/patches'), join(app, 'scripts/patches'), { recursive: true })
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 << 20,
    })
    // As the Dockerfile does: install scripts are off, the Baileys patch is applied explicitly.
    await run('npx', ['patch-package', '--patch-dir', 'scripts/patches', '--error-on-fail'], { cwd: app, maxBuffer: 16 << 20 })
    t.notOk(existsSync(join(app, 'node_modules/typescript')), 'no dev dependency installed')
    t.notOk(existsSync(join(app, 'node_modules/tsx')), 'no tsx: scripts/run.mjs falls back to dist/')

    const port = await freePort()
    const closedPort = await freePort() // nothing listens: Baileys fails to connect, never the internet
    const child = spawn(process.execPath, ['--enable-source-maps', 'dist/src/server.js'], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        API_KEY: 'production-build-test-key-0123456789',
        SESSION_STORAGE: 'file',
        SESSION_PATH: join(app, 'data/whatsapp-session'),
        WA_WS_URL: `ws://127.0.0.1:${closedPort}/ws/chat`,
        LOG_LEVEL: 'warn',
        SHUTDOWN_TIMEOUT_MS: '5000',
      },
    })
    let output = ''
    child.stdout.on('data', (b: Buffer) => { output += b })
    child.stderr.on('data', (b: Buffer) => { output += b })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    t.teardown(() => { child.kill('SIGKILL') })

    let health: { status: number; body: unknown } | null = null
    const until = Date.now() + 30_000
    while (!health && Date.now() < until && child.exitCode === null) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`)
        health = { status: res.status, body: await res.json() }
      } catch {
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    t.ok(health, 'the server answered', { output: output.slice(-4000) })
    t.equal(health?.status, 200)
    t.match(health?.body, { status: 'ok' })

    const unauthorised = await fetch(`http://127.0.0.1:${port}/api/whatsapp/sessions`).catch(() => null)
    t.equal(unauthorised?.status, 401, 'production requires the API key')

    child.kill('SIGTERM')
    t.equal(await exited, 0, 'SIGTERM: graceful shutdown exits 0', { output: output.slice(-4000) })
  })
}
