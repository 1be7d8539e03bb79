// Every /api/whatsapp route, one file per subject.
import type { FastifyPluginAsync } from 'fastify'
import cleanupRoutes from './cleanup.js'
import eventRoutes from './events.js'
import linkingRoutes from './linking.js'
import messageRoutes from './messages.js'
import sendRoutes from './send.js'
import sessionsRoutes from './sessions.js'
import statusRoutes from './status.js'
import webhookRoutes from './webhooks.js'

const whatsappRoutes: FastifyPluginAsync = async (app) => {
  await app.register(statusRoutes)
  await app.register(linkingRoutes)
  await app.register(sendRoutes)
  await app.register(messageRoutes)
  await app.register(sessionsRoutes)
  await app.register(cleanupRoutes)
  await app.register(eventRoutes)
  await app.register(webhookRoutes)
}

export default whatsappRoutes
