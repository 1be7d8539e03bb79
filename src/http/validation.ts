// Request validation that never changes the request. Fastify's default Ajv options remove unknown
// properties (removeAdditional) and coerce types ('array'): a misspelt `client_id` would be dropped and
// the message sent from the default account, `"dryRun": "false"` would become true. Here:
//   - nothing is ever removed: an unknown field or query key is a 400 naming it;
//   - JSON bodies are taken as sent: a wrong type is a 400;
//   - query strings and path parameters are text, so Ajv may read numbers and booleans from it
//     ("30" -> 30, "true" -> true, never "" -> 0 or "yes" -> true); a repeated key stays an array
//     and fails a scalar schema.
// Defaults in schemas still apply to omitted fields (documented defaults, not a change of what was sent).
import AjvCompiler from '@fastify/ajv-compiler'
import type { FastifySchema, FastifyServerOptions, RouteOptions } from 'fastify'

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>
type ValidatorFactory = NonNullable<NonNullable<SchemaController['compilersFactory']>['buildValidator']>

// discriminator: a body with variants (POST /send) is checked against the one its tag names.
const STRICT = { removeAdditional: false, useDefaults: true, allErrors: false, discriminator: true } as const

/**
 * Fastify's compilersFactory.buildValidator: a JSON-body Ajv without coercion, a text Ajv for the rest.
 * Fastify asks for a validator compiler once per plugin context; the two pools are shared by all of
 * them (one per app), so contexts with the same shared schemas reuse one Ajv each instead of building
 * (and compiling the JSON Schema meta-schema for) a new pair every time.
 */
export function createValidatorFactory(): ValidatorFactory {
  const bodyPool = AjvCompiler()
  const textPool = AjvCompiler()
  return (externalSchemas, options) => {
    const plugins = options?.plugins
    const body = bodyPool(externalSchemas, { plugins, customOptions: { ...STRICT, coerceTypes: false } })
    const text = textPool(externalSchemas, { plugins, customOptions: { ...STRICT, coerceTypes: true } })
    return (route) => (route.httpPart === 'body' ? body(route) : text(route))
  }
}

const PARTS = ['params', 'querystring', 'body'] as const

interface ObjectSchema {
  type?: unknown
  additionalProperties?: unknown
  oneOf?: ObjectSchema[]
  anyOf?: ObjectSchema[]
}

/**
 * onRoute guard: every documented route declares its query string (NoQuery when it takes none), and
 * every object schema of params, query and body forbids unknown properties. A route that does not is
 * a start-up error, so a new route cannot quietly accept what it ignores.
 */
export function assertStrictSchemas(route: RouteOptions): void {
  const schema = route.schema as (FastifySchema & { hide?: boolean }) | undefined
  if (!schema || schema.hide) return // the /docs UI's own static routes
  const where = `${String(route.method)} ${route.url}`
  if (schema.querystring === undefined) throw new Error(`${where}: declare a querystring schema (NoQuery when it takes none)`)
  for (const part of PARTS) {
    const s = schema[part] as ObjectSchema | undefined
    // A body with variants (oneOf/anyOf) is strict when every variant is.
    const variants = s?.oneOf ?? s?.anyOf ?? (s === undefined ? [] : [s])
    for (const v of variants) {
      if (v.type === 'object' && v.additionalProperties !== false) {
        throw new Error(`${where}: the ${part} schema must set additionalProperties: false`)
      }
    }
  }
}
