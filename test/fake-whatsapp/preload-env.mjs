// Test-only preload for the compiled server (node --import ./test/fake-whatsapp/preload-env.mjs
// dist/src/server.js), which has no TypeScript loader: trusts the fake's root key passed in
// FAKE_WA_ROOT_PUBLIC_KEY (hex), like preload.ts does with the fixture, and, when BENCH_MEMORY_FILE
// is set, writes process.memoryUsage() there on SIGUSR2 (before and after a full GC when --expose-gc).
// Nothing in src/ does either: production keeps WhatsApp's real root.
import { writeFileSync } from 'node:fs'
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'

const root = process.env.FAKE_WA_ROOT_PUBLIC_KEY
if (root) WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(root, 'hex')

const memoryFile = process.env.BENCH_MEMORY_FILE
if (memoryFile) {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage()
    globalThis.gc?.()
    const after = process.memoryUsage()
    writeFileSync(memoryFile, JSON.stringify({ before, after, at: Date.now() }))
  })
}
