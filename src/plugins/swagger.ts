// OpenAPI 3.0 document generated from the route schemas, and the UI at /docs. Registered before the
// routes so @fastify/swagger sees every one of them.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export interface SwaggerOptions {
  /** Documents the API key requirement when API_KEY is set. */
  secured: boolean
}

/** Keywords whose values are data (examples, defaults, enums), not schemas: never rewritten. */
const DATA_KEYWORDS = new Set(['example', 'examples', 'default', 'enum', 'const'])
/** Keywords whose values map names (property names, status codes...) to objects to visit. */
const MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'paths', 'responses', 'content', 'schemas', 'definitions'])

/**
 * OpenAPI 3.0 Schema Objects have a single `example`, not JSON Schema's `examples` array. TypeBox
 * schemas carry `examples`; @fastify/swagger converts them except inside a response's explicit
 * `content` map (GET /qr). This finishes the job, in place, for the whole document.
 */
export function examplesFor30(node: unknown, isMap = false): void {
  if (Array.isArray(node)) {
    for (const item of node) examplesFor30(item)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const record = node as Record<string, unknown>
  if (isMap) {
    for (const value of Object.values(record)) examplesFor30(value)
    return
  }
  if (Array.isArray(record.examples)) {
    if (record.example === undefined && record.examples.length > 0) record.example = record.examples[0]
    delete record.examples
  }
  for (const [key, value] of Object.entries(record)) {
    if (!DATA_KEYWORDS.has(key)) examplesFor30(value, MAP_KEYWORDS.has(key))
  }
}

export default fp<SwaggerOptions>(
  async (app, { secured }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'whatsapp-backend',
          version: '0.1.0',
          description:
            'REST API over WhatsApp sessions (Baileys) that keeps them connected and never loses them. ' +
            'Every /api/whatsapp route takes an optional clientId (query or body) naming the session; it defaults to CLIENT_ID. ' +
            'Unknown fields and query keys are refused (400 VALIDATION_FAILED naming them), and values are never converted: send JSON types. ' +
            'Errors always have the shape { error: { code, message, details? }, requestId }.',
        },
        tags: [
          { name: 'whatsapp', description: 'One session: status, linking (QR or pairing code), sending, reconnecting' },
          { name: 'sessions', description: 'Sessions of this server and their stored data' },
          { name: 'events', description: 'What arrives on a session (messages, statuses, session states, QR codes) as ordered, durable events: pull and live stream' },
          { name: 'webhooks', description: 'Signed event delivery: a session\'s own webhook, dead letters, redelivery' },
          { name: 'ops', description: 'Health, readiness and metrics' },
        ],
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API_KEY>' },
            apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'x-api-key: <API_KEY>' },
          },
        },
        security: secured ? [{ bearer: [] }, { apiKey: [] }] : [],
      },
      transformObject: (document) => {
        examplesFor30('openapiObject' in document ? document.openapiObject : document.swaggerObject)
        return 'openapiObject' in document ? document.openapiObject : document.swaggerObject
      },
    })
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
  },
  { name: 'swagger', fastify: '5.x' },
)
