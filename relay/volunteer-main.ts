import { parseArgs } from 'node:util'
import { startVolunteer } from './volunteer.js'

/**
 * `npm run volunteer -- --room '<room link>' [--relay http://127.0.0.1:8080/] [--workers N]`
 * The relay's address comes from the app server's /fedra.json, like a tab.
 */
const { values } = parseArgs({
  options: {
    room: { type: 'string' },
    relay: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string' }
  }
})
if (values.room == null) {
  console.error('usage: npm run volunteer -- --room \'<room link>\' [--relay <app url>]')
  process.exit(2)
}
const app = values.relay ?? values.room.split('#')[0]
const { relays } = await (await fetch(new URL('/fedra.json', app))).json() as { relays: string[] }
const peer = await startVolunteer({
  room: values.room,
  relays,
  host: values.host,
  workers: values.workers != null ? Number(values.workers) : undefined
})
console.log(JSON.stringify({ event: 'ready', id: peer.id, addrs: peer.addresses() }))
console.error(`Volunteering in the room as ${peer.id}.`)
const stop = (): void => { void peer.stop().finally(() => process.exit(0)) }
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
