/** Start: your name, the room link (copy, share, QR), a new room or another room's link. */
import { useRef, useState } from 'preact/hooks'
import { formatRoomFragment, newRoomSecret, parseRoomLink } from '../../core/room/link.js'
import { explain } from '../errors.js'
import { canShare, copyText, share } from '../media.js'
import { cleanName, NAME_MAX } from '../prefs.js'
import { QrCode } from '../qr.js'
import { go, prefs, roomLink, setPrefs } from '../state.js'
import { Notice } from '../notice.js'
import type { PlainError } from '../errors.js'

/** Moves this tab to another room: the page reloads into it. */
function openRoom (fragment: string): void {
  go('room')
  location.hash = fragment
  location.reload()
}

function NameField () {
  return (
    <p class="field">
      <label for="display-name">Your name</label>
      <input id="display-name" type="text" autocomplete="nickname" maxLength={NAME_MAX} value={prefs.value.name}
        onChange={e => { const name = cleanName(e.currentTarget.value); if (name !== '') setPrefs({ name }) }} />
      <small id="name-help">Shown to the people in your rooms.</small>
    </p>
  )
}

function Invite () {
  const input = useRef<HTMLInputElement>(null)
  const [said, say] = useState('')
  const link = roomLink.value
  return (
    <section class="card" aria-labelledby="invite-h">
      <h3 id="invite-h">Invite people</h3>
      <p>Anyone with this link joins the room: it holds the room's key. Share it with the people you want in.</p>
      <div class="row">
        <input ref={input} class="link" type="text" readOnly aria-label="Room link" value={link} onFocus={e => { e.currentTarget.select() }} />
      </div>
      <div class="row">
        <button type="button" onClick={() => { void copyText(link, input.current).then(ok => { say(ok ? 'Link copied.' : 'Copy did not work here: select the link and copy it.') }) }}>Copy link</button>
        {canShare() ? <button type="button" onClick={() => { void share({ title: 'Join my Fedra room', url: link }) }}>Share link</button> : null}
        <span role="status" class="said">{said}</span>
      </div>
      <QrCode text={link} label="QR code of the room link: scan it with a phone's camera to join" />
    </section>
  )
}

function OtherRoom () {
  const [error, setError] = useState<PlainError | null>(null)
  const [text, setText] = useState('')
  const join = (e: Event): void => {
    e.preventDefault()
    try {
      openRoom(formatRoomFragment(parseRoomLink(text)))
    } catch (err) {
      setError(explain(err))
    }
  }
  return (
    <section class="card" aria-labelledby="other-h">
      <h3 id="other-h">Another room</h3>
      <p><button type="button" onClick={() => { go('start'); location.hash = formatRoomFragment(newRoomSecret()); location.reload() }}>New room</button> starts an empty room with a new link.</p>
      <form class="row" onSubmit={join}>
        <label for="join-link">Join by link</label>
        <input id="join-link" type="text" inputMode="url" placeholder="https://…#/r/…" value={text} onInput={e => { setText(e.currentTarget.value); setError(null) }} />
        <button type="submit">Join</button>
      </form>
      {error != null ? <Notice error={error} /> : null}
    </section>
  )
}

export function StartScreen ({ hidden }: { hidden: boolean }) {
  return (
    <section class="screen" hidden={hidden} aria-labelledby="start-h">
      <h2 id="start-h">Start</h2>
      <NameField />
      <Invite />
      <OtherRoom />
    </section>
  )
}
