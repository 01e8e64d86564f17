/** The app's shell: header with the Volunteer switch, notices, screen tabs. */
import { render } from 'preact'
import { Notice } from './notice.js'
import { ExamplesScreen } from './screens/examples.js'
import { EditScreen } from './screens/edit.js'
import { JobScreen } from './screens/job.js'
import { RoomScreen } from './screens/room.js'
import { StartScreen } from './screens/start.js'
import { batteryHeld, fatal, go, lostConnection, people, peer, prefs, screen, SCREENS, setPrefs } from './state.js'

function VolunteerSwitch () {
  const held = batteryHeld.value
  return (
    <div class="volunteer">
      <label class="switch">
        <input type="checkbox" checked={prefs.value.volunteer} onChange={e => { setPrefs({ volunteer: e.currentTarget.checked }) }} />
        <span>Volunteer</span>
      </label>
      {prefs.value.volunteer && held != null ? <span class="held">paused: {held}</span> : null}
    </div>
  )
}

function Tabs () {
  return (
    <nav class="tabs" aria-label="Screens">
      {SCREENS.map(s => (
        <button key={s.id} type="button" aria-current={screen.value === s.id ? 'page' : undefined} onClick={() => { go(s.id) }}>
          {s.label}
        </button>
      ))}
    </nav>
  )
}

function App () {
  const n = people.value.length
  const current = screen.value
  return (
    <>
      <header class="top">
        <h1>Fedra</h1>
        <span class="count">{peer.value == null ? 'joining…' : `${n} in the room`}</span>
        <VolunteerSwitch />
      </header>
      <Tabs />
      <main>
        {fatal.value != null ? <Notice error={fatal.value} /> : null}
        {lostConnection.value != null ? <Notice error={lostConnection.value} /> : null}
        <StartScreen hidden={current !== 'start'} />
        <RoomScreen hidden={current !== 'room'} />
        <EditScreen hidden={current !== 'edit'} />
        <JobScreen hidden={current !== 'job'} />
        <ExamplesScreen hidden={current !== 'examples'} />
      </main>
    </>
  )
}

export function mountApp (root: HTMLElement): void {
  root.replaceChildren()
  render(<App />, root)
}
