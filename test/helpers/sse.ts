// A small Server-Sent Events reader for tests: frames parsed as they arrive; read(until) returns the
// frames received since the last read once `until` holds for them (or the stream ended).
export interface SseFrame { id?: string; event?: string; data?: string; comment?: string; retry?: string }

export function sseReader(res: Response) {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let pending: SseFrame[] = []
  let ended = false

  function parse(): void {
    let cut
    while ((cut = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, cut)
      text = text.slice(cut + 2)
      const f: Record<string, string> = {}
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) f.comment = line.slice(1).trim()
        else {
          const i = line.indexOf(':')
          f[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, '')
        }
      }
      pending.push(f)
    }
  }

  return {
    get ended() { return ended },
    async read(until: (frames: SseFrame[]) => boolean): Promise<SseFrame[]> {
      while (!until(pending) && !ended) {
        const { value, done } = await reader.read()
        if (done) ended = true
        else {
          text += decoder.decode(value, { stream: true })
          parse()
        }
      }
      const out = pending
      pending = []
      return out
    },
    cancel: () => reader.cancel().catch(() => undefined),
  }
}

export const eventFrames = (frames: SseFrame[]) => frames.filter((f) => f.id !== undefined)
