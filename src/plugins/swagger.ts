// OpenAPI 3 document generated from the route schemas, and the UI at /docs. Registered before the
// routes so @fastify/swagger sees every one of them.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export interface SwaggerOptions {
  /** Documents the API key requirement when API_KEY is set. */
  secured: boolean
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
            'Errors always have the shape { error: { code, message, details? }, requestId }.',
        },
        tags: [
          { name: 'whatsapp', description: 'One session: status, linking (QR or pairing code), sending, reconnecting' },
          { name: 'sessions', description: 'Sessions of this server and their stored data' },
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
    })
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
  },
  { name: 'swagger', fastify: '5.x' },
)
