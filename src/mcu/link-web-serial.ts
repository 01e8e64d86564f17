import type { ByteLink } from './board-client.js'

/** The shape of a Web Serial `SerialPort` that the link uses. */
export interface SerialPortLike {
  open: (options: { baudRate: number }) => Promise<void>
  readable: ReadableStream<Uint8Array> | null
  writable: WritableStream<Uint8Array> | null
  close: () => Promise<void>
}

/**
 * A board plugged into the laptop, adopted by a tab through Web Serial
 * (`navigator.serial.requestPort()`): the same protocol code as the Node
 * bridge, over the port's streams.
 */
export async function openWebSerialLink (port: SerialPortLike, baudRate = 115200): Promise<ByteLink> {
  await port.open({ baudRate })
  if (port.readable == null || port.writable == null) throw new Error('serial port has no streams')
  const reader = port.readable.getReader()
  const writer = port.writable.getWriter()
  let onData: (chunk: Uint8Array) => void = () => {}
  let onClose: (err?: Error) => void = () => {}
  let closed = false
  const finish = (err?: Error): void => {
    if (closed) return
    closed = true
    onClose(err)
  }
  void (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read()
        if (done) break
        if (value != null) onData(value)
      }
      finish()
    } catch (err) {
      finish(err as Error)
    }
  })()
  return {
    write: async (bytes) => { await writer.write(bytes) },
    onData: (fn) => { onData = fn },
    onClose: (fn) => { onClose = fn },
    close: async () => {
      await reader.cancel().catch(() => {})
      reader.releaseLock()
      await writer.close().catch(() => {})
      writer.releaseLock()
      await port.close().catch(() => {})
      finish()
    }
  }
}
