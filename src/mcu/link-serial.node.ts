import { SerialPort } from 'serialport'
import type { ByteLink } from './board-client.js'

/** A board on USB: the ST-LINK virtual COM port (e.g. /dev/ttyACM0), 115200 8N1. */
export async function openSerialLink (path: string, baudRate = 115200): Promise<ByteLink> {
  const port = new SerialPort({ path, baudRate, autoOpen: false })
  await new Promise<void>((resolve, reject) => { port.open(err => { err != null ? reject(err) : resolve() }) })
  return {
    write: async (bytes) => {
      await new Promise<void>((resolve, reject) => { port.write(Buffer.from(bytes), err => { err != null ? reject(err) : resolve() }) })
      await new Promise<void>(resolve => { port.drain(() => { resolve() }) })
    },
    onData: (fn) => { port.on('data', (d: Buffer) => { fn(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)) }) },
    onClose: (fn) => {
      let err: Error | undefined
      port.on('error', e => { err = e })
      port.once('close', () => { fn(err) })
    },
    close: async () => {
      if (port.isOpen) await new Promise<void>(resolve => { port.close(() => { resolve() }) })
    }
  }
}
