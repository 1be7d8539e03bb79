// The keystore as a product: `whatsapp-backend/keystore`, built by `npm run build`'s compiler settings,
// imported by name from a consumer project (JavaScript at run time, TypeScript for its types), in file
// mode and in Postgres mode (the package carries its migrations).
import t from 'tap'
import { execFile } from 'node:child_process'
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { migratedDatabase } from '../helpers/db.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

const CONSUMER_JS = `
import { openAuthState, createSessionStore, StoreDataError, WrongEncryptionKeyError } from 'whatsapp-backend/keystore'
const [sessionPath, databaseUrl] = process.argv.slice(2)
const auth = await openAuthState({ clientId: 'main', sessionPath, databaseUrl: databaseUrl || undefined })
auth.state.creds.me = { id: '15550001111:7@s.whatsapp.net', name: 'Consumer' }
await auth.saveCreds()
await auth.state.keys.set({ session: { '200000000000002_1.0': Buffer.from('hello') } })
await auth.close()
const store = await createSessionStore({ sessionPath, databaseUrl: databaseUrl || undefined })
const again = await store.open('main')
const got = await again.state.keys.get('session', ['200000000000002_1.0'])
console.log(JSON.stringify({
  me: again.state.creds.me?.id,
  session: Buffer.from(got['200000000000002_1.0']).toString(),
  mode: store.mode,
  listed: (await store.list()).map((s) => s.clientId),
  errorsAreClasses: new WrongEncryptionKeyError() instanceof StoreDataError,
}))
await store.close()
`

const CONSUMER_TS = `
import { openAuthState, type OwnedAuthState, type SessionStore, type StoreHealth } from 'whatsapp-backend/keystore'
const auth: OwnedAuthState = await openAuthState({ clientId: 'main', sessionPath: './s' })
const store: SessionStore = auth.store
const health: StoreHealth = auth.health()
const counts: Record<string, number> = await auth.keyCounts()
// @ts-expect-error the options are typed: a misspelt one is refused
await openAuthState({ clientId: 'x', sessionPath: './s', databaseURL: 'postgres://' })
export { store, health, counts }
`

t.test('whatsapp-backend/keystore: built, imported by name, typed', { timeout: 240_000 }, async (t) => {
  const dir = t.testdir()
  const pkg = join(dir, 'package')
  const consumer = join(dir, 'consumer')
  // The package as npm run build leaves it: package.json, dist/ (with declarations), db/migrations.
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], { cwd: root })
  await cp(join(root, 'package.json'), join(pkg, 'package.json'))
  await cp(join(root, 'db'), join(pkg, 'db'), { recursive: true })
  await symlink(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir')
  await mkdir(join(consumer, 'node_modules'), { recursive: true })
  await symlink(pkg, join(consumer, 'node_modules/whatsapp-backend'), 'dir')
  await symlink(join(root, 'node_modules/@types'), join(consumer, 'node_modules/@types'), 'dir')
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }))
  await writeFile(join(consumer, 'main.mjs'), CONSUMER_JS)
  await writeFile(join(consumer, 'main.ts'), CONSUMER_TS)

  const { url } = await migratedDatabase(t)
  for (const [mode, databaseUrl] of [['file', ''], ['postgres', url]] as const) {
    const { stdout } = await run(process.execPath, ['main.mjs', join(dir, `sessions-${mode}`), databaseUrl], { cwd: consumer })
    t.same(JSON.parse(stdout), { me: '15550001111:7@s.whatsapp.net', session: 'hello', mode, listed: ['main'], errorsAreClasses: true }, `${mode} mode through the package`)
  }

  const tsc = await run(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'main.ts'],
    { cwd: consumer },
  ).then(
    () => ({ code: 0, out: '' }),
    (err: { code?: number; stdout?: string }) => ({ code: err.code ?? 1, out: err.stdout ?? '' }),
  )
  t.equal(tsc.code, 0, 'a TypeScript consumer type-checks against the published declarations', { diagnostics: tsc.out.slice(0, 3000) })
})
