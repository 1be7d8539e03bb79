// README.md documents every environment variable the server reads and every route it serves.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { EnvSchema } from '../src/config.js'
import { testApp } from './app/helpers.js'

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')

t.test('every environment variable is in the README', async (t) => {
  for (const name of Object.keys(EnvSchema.properties)) t.ok(readme.includes(`\`${name}\``), name)
})

t.test('every route is in the README', async (t) => {
  const app = await testApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
  t.ok(routes.length >= 14, `${routes.length} routes in the OpenAPI document`)
  for (const route of routes) {
    const [method, path] = route.split(' ') as [string, string]
    // The README writes path parameters as :name, OpenAPI as {name}.
    const asWritten = path.replace(/\{(\w+)\}/g, ':$1')
    t.ok(readme.includes(`${method} ${asWritten}`), route)
  }
})
