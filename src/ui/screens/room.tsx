/** Room: the people in it, and your own volunteering and battery policy. */
import { battery, batteryHeld, completedHere, peer, people, prefs, setPrefs, volunteering } from '../state.js'
import type { Person } from '../people.js'

function PersonCard ({ p }: { p: Person }) {
  return (
    <li class="person" aria-label={p.self ? `${p.name} (you)` : p.name}>
      <div class="who">
        <span class="swatch" style={{ background: p.colour }} aria-hidden="true" />
        <strong>{p.name}</strong>{p.self ? ' (you)' : ''}
        <span class={p.volunteers ? 'badge on' : 'badge'}>{p.volunteers ? 'volunteers' : 'does not volunteer'}</span>
      </div>
      <dl>
        <dt>Device</dt><dd>{p.kind}</dd>
        <dt>Offers</dt><dd>{p.offers}</dd>
        <dt>Battery</dt><dd>{p.battery}</dd>
        <dt>Computing now</dt><dd>{p.computing}</dd>
        <dt>Link</dt><dd>{p.link}</dd>
      </dl>
    </li>
  )
}

function Volunteering () {
  const b = battery.value
  const held = batteryHeld.value
  const on = volunteering.value
  return (
    <section class="card" aria-labelledby="vol-h">
      <h3 id="vol-h">Your device</h3>
      <p role="status">
        {on
          ? 'You volunteer: people in this room may run their tasks on this device.'
          : prefs.value.volunteer && held != null
            ? `Volunteering is paused: ${held}. It resumes by itself.`
            : 'You do not volunteer: nobody\'s tasks run on this device. Turn Volunteer on (top of the page) to lend it.'}
      </p>
      <p>Tasks computed here for the room: <strong>{completedHere.value}</strong></p>
      <p>Battery: {b == null ? 'this browser does not report one' : `${Math.round(b.level * 100)} %${b.charging ? ', charging' : ', on battery'}`}</p>
      <fieldset>
        <legend>Battery policy</legend>
        <label class="check">
          <input type="checkbox" checked={prefs.value.onlyWhileCharging} onChange={e => { setPrefs({ onlyWhileCharging: e.currentTarget.checked }) }} />
          Only while charging
        </label>
        <span class="field-inline">
          <label for="stop-below">Stop below</label>
          <input id="stop-below" type="number" min={0} max={100} step={5} value={prefs.value.stopBelowPercent} aria-describedby="stop-help"
            onChange={e => { const v = Number(e.currentTarget.value); if (Number.isFinite(v)) setPrefs({ stopBelowPercent: Math.max(0, Math.min(100, Math.round(v))) }) }} />
          <span aria-hidden="true">%</span>
        </span>
        <small id="stop-help">Percent of battery; applies on battery only; 0 never stops.</small>
      </fieldset>
    </section>
  )
}

export function RoomScreen ({ hidden }: { hidden: boolean }) {
  const list = people.value
  const others = list.filter(p => !p.self)
  const relayOnly = others.length > 0 && others.every(p => p.link.startsWith('through the relay'))
  return (
    <section class="screen" hidden={hidden} aria-labelledby="room-h">
      <h2 id="room-h">Room</h2>
      {peer.value == null
        ? <p role="status">Joining the room…</p>
        : <p role="status">{others.length === 0 ? 'Nobody else is here yet: share the link from Start.' : `${list.length} people in this room, ${list.filter(p => p.volunteers).length} volunteering.`}</p>}
      {relayOnly ? <p class="warn">No direct link has formed yet: devices reach each other only through the relay, which carries the room's messages but no tasks. Fedra keeps trying; on a phone network, the relay's operator may need a TURN server.</p> : null}
      <Volunteering />
      <h3>People</h3>
      <ul class="people" aria-label="People in the room">
        {list.map(p => <PersonCard key={p.id} p={p} />)}
      </ul>
    </section>
  )
}
