// Runs scripts/<name>.ts with tsx when it is installed (development), else the compiled
// dist/scripts/<name>.js (production image, where dev dependencies are omitted).
import { fileURLToPath, pathToFileURL } from 'node:url'
import { existsSync } from 'node:fs'

const name = process.argv[2]
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: node scripts/run.mjs <script-name> [args...]')
  process.exit(2)
}
process.argv.splice(2, 1)
const here = fileURLToPath(new URL('.', import.meta.url))
let tsx = null
try { tsx = await import('tsx/esm/api') } catch { /* production: no tsx */ }
if (tsx && existsSync(`${here}${name}.ts`)) {
  tsx.register()
  await import(pathToFileURL(`${here}${name}.ts`).href)
} else {
  const compiled = `${here}../dist/scripts/${name}.js`
  if (!existsSync(compiled)) {
    console.error(`scripts/${name}: not compiled; run "npm run build" first`)
    process.exit(2)
  }
  await import(pathToFileURL(compiled).href)
}
