import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { createRelayNode } from './relay-node.js'
import { startStaticServer } from './static-server.js'

/**
 * `npm run relay -- [--host 127.0.0.1] [--port 8080] [--relay-port 0] [--root dist]`
 * Starts the relay and serves the web app; prints one JSON line with the
 * URLs so scripts and tests can pick them up.
 */
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'relay-port': { type: 'string', default: '0' },
    root: { type: 'string', default: 'dist' }
  }
})

const host = values.host
const relay = await createRelayNode({ host, port: Number(values['relay-port']) })
await relay.start()
const relayAddrs = (): string[] => relay.getMultiaddrs().map(a => a.toString())
const { server, url } = await startStaticServer({
  root: resolve(values.root),
  host,
  port: Number(values.port),
  documents: { '/fedra.json': () => ({ relays: relayAddrs() }) }
})

console.log(JSON.stringify({ event: 'ready', url, relays: relayAddrs() }))
console.error(`Fedra is running. Open ${url} to create a room.`)

const stop = (): void => {
  server.close()
  void Promise.resolve(relay.stop()).finally(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
