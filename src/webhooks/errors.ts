// Errors of the webhooks feature: a catalogue code (src/error-catalogue.ts), so the API maps them
// without this code knowing about HTTP.
import { CodedError } from '../error-catalogue.js'

export class WebhookError extends CodedError {}
