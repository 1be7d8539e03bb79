// The Dockerfile: two stages on node:20-slim, production dependencies only, the compiled server as
// the command, run as `node` (via the entrypoint, which first hands the root-owned volume to node).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { chmod, copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dockerfile = await readFile(`${root}Dockerfile`, 'utf8')
const dockerignore = await readFile(`${root}.dockerignore`, 'utf8')
/** Instructions without comments or blank lines. */
const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
const stages = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.startsWith('FROM '))

t.test('two stages on node:20-slim: build, then runtime', async (t) => {
  t.same(stages.map(({ l }) => l), ['FROM node:20-slim AS build', 'FROM node:20-slim AS runtime'])
  const build = lines.slice(stages[0]!.i, stages[1]!.i)
  const runtime = lines.slice(stages[1]!.i)
  t.ok(build.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev')), 'build stage installs everything')
  t.ok(build.includes('RUN npm run build'), 'build stage compiles')
  t.ok(runtime.some((l) => /^RUN npm ci .*--omit=dev/.test(l) && l.includes('--ignore-scripts')), 'runtime: production deps only')
  t.ok(runtime.includes('COPY scripts/patches ./scripts/patches'), 'runtime gets the Baileys patch')
  t.ok(runtime.some((l) => l.includes('npx patch-package --patch-dir scripts/patches --error-on-fail')), 'and applies it (install scripts are off)')
  t.ok(runtime.includes('COPY --from=build /app/dist ./dist'), 'runtime gets dist/')
  t.ok(runtime.includes('COPY db ./db'), 'runtime gets the SQL migrations')
  t.notOk(runtime.some((l) => /^COPY (src|test|tsconfig)/.test(l)), 'no sources in the runtime image')
  t.ok(runtime.includes('ENV NODE_ENV=production'))
  t.ok(runtime.includes('EXPOSE 3000'))
  t.equal(runtime.at(-1), 'CMD ["node", "--enable-source-maps", "dist/src/server.js"]', 'the compiled server is the command')
  t.ok(runtime.includes('ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]'))
  t.notOk(runtime.some((l) => /^USER (root|0)\b/.test(l)))
})

t.test('.dockerignore keeps secrets, local state and build output out of the context', async (t) => {
  const ignored = dockerignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  for (const p of ['node_modules', 'dist', '.git', '.env', '.env.*', 'whatsapp-session', 'test']) t.ok(ignored.includes(p), p)
  for (const needed of ['src', 'scripts', 'db', 'deploy', 'package.json', 'package-lock.json']) {
    t.notOk(ignored.includes(needed), `${needed} stays in the build context`)
  }
})

t.test('the entrypoint hands the session folder to node and drops root', async (t) => {
  const script = `${root}scripts/docker-entrypoint.sh`
  t.ok(((await stat(script)).mode & 0o111) !== 0, 'executable')
  const text = await readFile(script, 'utf8')
  t.match(text, /chown -R node:node "\$session_path"/)
  t.match(text, /exec setpriv --reuid=node --regid=node --init-groups -- "\$@"/)
  // Started as a non-root user it runs the command untouched (the root path needs a `node` user,
  // which only the image has). Run as root here, drop to nobody first to take that path. The script
  // is copied into a folder nobody can read, wherever the repository was cloned (a 0700 home folder).
  const dir = await mkdtemp(join(tmpdir(), 'wa-entry-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await chmod(dir, 0o755)
  const copy = join(dir, 'docker-entrypoint.sh')
  await copyFile(script, copy)
  await chmod(copy, 0o755)
  // `env -i`: a minimal environment, as in the image. The test runner injects a hook from this checkout
  // into every node child (NODE_OPTIONS), which nobody can read when the clone is in a private folder.
  const clean = ['env', '-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, `SESSION_PATH=${join(dir, 's')}`]
  const command = [...clean, 'sh', copy, process.execPath, '-e', 'console.log(process.getuid(), process.argv.length)']
  const [file, ...args] = process.getuid?.() === 0
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...command]
    : command
  const out = execFileSync(file!, args, { cwd: dir }).toString()
  t.equal(out.trim(), `${process.getuid?.() === 0 ? 65534 : process.getuid?.()} 1`, 'command exec\'d with its arguments')
})
