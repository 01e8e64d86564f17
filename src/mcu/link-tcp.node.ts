import { connect } from 'node:net'
import type { ByteLink } from './board-client.js'

/** QEMU's emulated UART (`-serial tcp:…,server=on`), or any serial-over-TCP bridge. */
export async function openTcpLink (host: string, port: number, options: { signal?: AbortSignal } = {}): Promise<ByteLink> {
  const socket = connect({ host, port, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => { reject(err) }
    socket.once('error', fail)
    options.signal?.addEventListener('abort', () => { socket.destroy(); reject(options.signal?.reason) }, { once: true })
    socket.once('connect', () => { socket.off('error', fail); resolve() })
  })
  socket.setNoDelay(true)
  return {
    write: async (bytes) => {
      await new Promise<void>((resolve, reject) => { socket.write(bytes, err => { err != null ? reject(err) : resolve() }) })
    },
    onData: (fn) => { socket.on('data', (d: Buffer) => { fn(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)) }) },
    onClose: (fn) => {
      let err: Error | undefined
      socket.on('error', e => { err = e })
      socket.once('close', () => { fn(err) })
    },
    close: async () => { socket.destroy() }
  }
}
