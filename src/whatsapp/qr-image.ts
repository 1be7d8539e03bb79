// QR renderings for the API and the pair script, kept apart from Session: the socket code only knows
// the raw QR string.
import QRCode from 'qrcode'

export const qrDataUrl = (qr: string): Promise<string> => QRCode.toDataURL(qr, { margin: 1, width: 320 })
export const qrPng = (qr: string): Promise<Buffer> => QRCode.toBuffer(qr, { type: 'png', margin: 1, width: 320 })
export const qrTerminal = (qr: string): Promise<string> => QRCode.toString(qr, { type: 'terminal', small: true })
