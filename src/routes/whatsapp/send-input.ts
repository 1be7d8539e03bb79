// What POST /send reads before validation: a JSON body without `type` is a text message (the
// documented default), and a multipart form becomes the same body: its text fields are the body's
// fields ("true"/"false" for booleans, digits for numbers, `mimetype` goes to media.mimetype), its one
// file part is spooled to a private temp file as it arrives and becomes media.upload.
import type { FastifyRequest } from 'fastify'
import { MessageError } from '../../messages/errors.js'
import { spool, TooLargeError, type SpooledFile } from '../../messages/media/spool.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** File parts of a multipart POST /send, spooled to temp files (removed when the answer is sent). */
    uploads: Map<string, SpooledFile> | null
    /** A JSON POST /send: whether its text has a backslash (null: not JSON). */
    jsonBackslash: boolean | null
  }
}

const NON_TEXT_FIELDS = ['media', 'latitude', 'longitude', 'contact', 'emoji', 'messageId']
const BOOLEAN_FIELDS = new Set(['queue', 'linkPreview'])
const NUMBER_FIELDS = new Set(['seconds', 'latitude', 'longitude'])

function fieldValue(name: string, value: string): unknown {
  if (BOOLEAN_FIELDS.has(name) && (value === 'true' || value === 'false')) return value === 'true'
  if (NUMBER_FIELDS.has(name) && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) return Number(value)
  return value
}

async function readMultipart(request: FastifyRequest, maxBytes: number): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {}
  const uploads = new Map<string, SpooledFile>()
  request.uploads = uploads
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (uploads.size > 0) throw new MessageError('INVALID_MULTIPART', 'Send exactly one file part.')
      uploads.set(part.fieldname, await spool(part.file, maxBytes))
      continue
    }
    if (part.fieldname in fields) throw new MessageError('INVALID_MULTIPART', `The field "${part.fieldname}" is sent twice.`)
    fields[part.fieldname] = fieldValue(part.fieldname, String(part.value))
  }
  const [fileField] = uploads.keys()
  if (fileField === undefined) throw new MessageError('INVALID_MULTIPART', 'The form has no file part.')
  const { mimetype, ...rest } = fields
  return { type: 'text', ...rest, media: { upload: fileField, ...(mimetype !== undefined ? { mimetype } : {}) } }
}

/** @fastify/multipart's limit errors in the catalogue's terms. */
function multipartError(err: unknown, maxBytes: number): unknown {
  const code = (err as { code?: string } | null)?.code
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new TooLargeError(maxBytes)
  if (code === 'FST_FILES_LIMIT') return new MessageError('INVALID_MULTIPART', 'Send exactly one file part.')
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return new MessageError('INVALID_MULTIPART', 'The form has too many fields.')
  if (code === 'FST_PROTO_VIOLATION' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new MessageError('INVALID_MULTIPART', 'The multipart body cannot be read; let the HTTP client build it (curl -F).')
  }
  return err
}

/** preValidation of POST /send. */
export async function readSendInput(request: FastifyRequest, maxBytes: number): Promise<void> {
  if (request.isMultipart()) {
    try {
      request.body = await readMultipart(request, maxBytes)
    } catch (err) {
      throw multipartError(err, maxBytes)
    }
    return
  }
  const body = request.body
  // Only a body that could be a text message (the one type there was before `type`): one with another
  // type's fields is left to fail with "body.type is required".
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && !('type' in body) && !NON_TEXT_FIELDS.some((f) => f in body)) {
    request.body = { type: 'text', ...body }
  }
}

export async function removeUploads(request: FastifyRequest): Promise<void> {
  const uploads = request.uploads
  request.uploads = null
  if (uploads) await Promise.all([...uploads.values()].map((u) => u.cleanup()))
}
