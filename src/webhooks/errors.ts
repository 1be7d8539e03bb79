// Errors of the webhooks feature, with codes from the one catalogue (src/errors.ts), so the API maps
// them without this code knowing about HTTP.
import type { ErrorCode } from '../errors.js'

export class WebhookError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'WebhookError'
  }
}
