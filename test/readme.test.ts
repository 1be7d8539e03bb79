// The documentation keeps in step with the code: docs/configuration.md documents every environment
// variable the server reads, and every route it serves is in the README's endpoint list and in
// docs/api.md.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { EnvSchema } from '../src/config.js'
import { testApp } from './app/helpers.js'

const read = (path: string) => readFile(new URL(`../${path}`, import.meta.url), 'utf8')
const [readme, configuration, api] = await Promise.all([read('README.md'), read('docs/configuration.md'), read('docs/api.md')])

t.test('every environment variable is in docs/configuration.md', async (t) => {
  for (const name of Object.keys(EnvSchema.properties)) t.ok(configuration.includes(`\`${name}\``), name)
})

t.test('every route is in the README and in docs/api.md', async (t) => {
  const app = await testApp(t)
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
  t.ok(routes.length >= 14, `${routes.length} routes in the OpenAPI document`)
  for (const route of routes) {
    const [method, path] = route.split(' ') as [string, string]
    // The docs write path parameters as :name, OpenAPI as {name}.
    const asWritten = `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`
    t.ok(readme.includes(asWritten), `README: ${route}`)
    t.ok(api.includes(asWritten), `docs/api.md: ${route}`)
  }
})

t.test('the README stays short: what a user needs in the first ten minutes', async (t) => {
  const lines = readme.split('\n').length
  t.ok(lines <= 300, `README.md has ${lines} lines (details belong in docs/)`)
})
