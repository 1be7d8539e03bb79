// Events for consumers without a public URL: pages of the outbox (GET /events) and the live stream
// (GET /events/stream, Server-Sent Events). The stream replays from the outbox after the seq the
// client has (Last-Event-ID or ?after=), then follows new appends; every read goes to the outbox, so
// what it sends has no gap whichever instance produced it (a poll at each heartbeat catches events
// another instance appended).
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../../schemas/common.js'
import { EventsQuery, EventsResponse, EventStreamBytes, StreamHeaders, StreamQuery } from '../../schemas/events.js'
import type { StoredEvent } from '../../events/types.js'

const STREAM_PAGE = 500

const frame = (e: StoredEvent) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const streams = new Set<ServerResponse>()
  // Before the server waits for open connections: a stream would otherwise keep close() waiting.
  app.addHook('preClose', async () => {
    for (const s of streams) s.end()
  })

  app.get('/events', {
    schema: {
      tags: ['events'],
      summary: 'Events of a session after a sequence number (replay from the outbox)',
      description: 'Oldest first. Read on with ?after=<next> until next equals lastSeq. Events are kept EVENTS_RETENTION_HOURS.',
      querystring: EventsQuery,
      response: { 200: EventsResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async (request) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    const after = request.query.after ?? 0
    const [events, lastSeq] = await Promise.all([app.events.outbox.after(clientId, after, request.query.limit ?? 100), app.events.outbox.lastSeq(clientId)])
    return { clientId, events, lastSeq: Math.max(lastSeq, events.at(-1)?.seq ?? 0), next: events.at(-1)?.seq ?? after }
  })

  app.get('/events/stream', {
    schema: {
      tags: ['events'],
      summary: 'Live events of a session (Server-Sent Events), resuming from Last-Event-ID',
      querystring: StreamQuery,
      headers: StreamHeaders,
      produces: ['text/event-stream'],
      response: {
        200: { description: 'The stream; it ends when the server shuts down (reconnect with Last-Event-ID)', content: { 'text/event-stream': { schema: EventStreamBytes } } },
        ...errorResponses('VALIDATION_FAILED'),
      },
    },
  }, async (request, reply) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    const resume = request.headers['last-event-id']
    let last = resume !== undefined ? Number(resume) : (request.query.after ?? 0)
    const { outbox, heartbeatMs } = app.events
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    })
    raw.write('retry: 2000\n\n')
    streams.add(raw)
    let closed = false
    let pumping = false
    let again = false

    async function pump(): Promise<void> {
      if (pumping) {
        again = true
        return
      }
      pumping = true
      try {
        do {
          again = false
          for (let page = await outbox.after(clientId, last, STREAM_PAGE); page.length > 0 && !closed; page = await outbox.after(clientId, last, STREAM_PAGE)) {
            for (const e of page) {
              last = e.seq
              if (!raw.write(frame(e))) await once(raw, 'drain')
              if (closed) return
            }
          }
        } while (again && !closed)
      } catch (err) {
        request.log.warn({ err, clientId }, 'the event stream could not read the outbox; it ends (the client reconnects with Last-Event-ID)')
        raw.end()
      } finally {
        pumping = false
      }
    }

    const unsubscribe = outbox.subscribe((events) => {
      if (events.some((e) => e.clientId === clientId)) void pump()
    })
    const heartbeat = setInterval(() => {
      raw.write(': heartbeat\n\n')
      void pump()
    }, heartbeatMs)
    raw.once('close', () => {
      closed = true
      clearInterval(heartbeat)
      unsubscribe()
      streams.delete(raw)
      raw.emit('drain')
    })
    void pump()
  })
}

export default eventRoutes
