import { parseArgs } from 'node:util'
import { openSerialLink } from '../src/mcu/link-serial.node.js'
import { openTcpLink } from '../src/mcu/link-tcp.node.js'
import { Bridge } from '../src/mcu/bridge.js'

/**
 * `npm run bridge -- --port /dev/ttyACM0 --room '<room link>'`
 * `npm run bridge -- --tcp 127.0.0.1:4444 --room '<room link>'`   (QEMU)
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    baud: { type: 'string', default: '115200' },
    tcp: { type: 'string' },
    room: { type: 'string' },
    relay: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' }
  }
})
if (values.room == null || (values.port == null) === (values.tcp == null)) {
  console.error("usage: npm run bridge -- (--port /dev/ttyACM0 | --tcp host:port) --room '<room link>' [--relay <app url>]")
  process.exit(2)
}
const open = values.port != null
  ? async () => openSerialLink(values.port as string, Number(values.baud))
  : async () => {
    const [host, port] = (values.tcp as string).split(':')
    return openTcpLink(host, Number(port))
  }
const app = values.relay ?? values.room.split('#')[0]
const { relays } = await (await fetch(new URL('/fedra.json', app))).json() as { relays: string[] }
const bridge = new Bridge({
  room: values.room,
  relays,
  open,
  listen: [`/ip4/${values.host}/tcp/0/ws`],
  webrtc: false,
  onEvent: e => { console.log(JSON.stringify(e, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)) }
})
await bridge.start()
console.log(JSON.stringify({ event: 'ready', id: bridge.peer.id }))
console.error(`Board ${bridge.client?.caps?.chip ?? ''} volunteers in the room as ${bridge.peer.id}.`)
const stop = (): void => { void bridge.stop().finally(() => process.exit(0)) }
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
