/** Edit: open or record a clip, pick and order filters, confirm who is in it, run. */
import { useEffect, useState } from 'preact/hooks'
import { explain } from '../errors.js'
import { checkCustomFilter, choices, customItem, filterItems, move } from '../filters.js'
import { Notice } from '../notice.js'
import { clip, clipError, record, recording, setClip, stopRecording, tagged, taggedNames } from '../recording.js'
import { go, peer, people } from '../state.js'
import { unitsOut } from '../video-progress.js'
import { run as videoRun, startVideoJob } from '../video-run.js'
import type { PlainError } from '../errors.js'
import type { FilterItem } from '../filters.js'
import type { ActiveRecording } from '../recording.js'

/** Whole seconds since `since` (performance.now()), ticking while shown. */
function useSeconds (since: number): number {
  const [now, setNow] = useState(performance.now())
  useEffect(() => {
    const t = setInterval(() => { setNow(performance.now()) }, 250)
    return () => { clearInterval(t) }
  }, [since])
  return Math.max(0, Math.floor((now - since) / 1000))
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`

/**
 * While recording: how long (a timer, not announced), and what of it went
 * out to the room already (a polite status, announced when units go out).
 */
function RecordingStatus ({ r }: { r: ActiveRecording }) {
  const secs = useSeconds(r.startedAt)
  const job = videoRun.value
  const mine = job != null && job.id === r.runId ? job : null
  const text = r.runId == null
    ? 'Nothing goes to the room yet: after Stop, pick filters and press Filter video.'
    : mine == null || mine.status !== 'running'
      ? `The room stopped filtering it${mine?.error != null ? ` (${mine.error.title}: ${mine.error.detail})` : ''}: see Job.`
      : `${r.filterTitles.join(' → ')}: ${plural(unitsOut(mine.progress), 'unit')} out to the room, ${mine.progress.unitsDone} filtered.`
  return (
    <p class="recording-status">
      Recording: <span role="timer" aria-label="Recorded">{secs} s</span>.{' '}
      <span role="status" aria-label="Recording">{text}</span>
    </p>
  )
}

function ClipStep () {
  const r = recording.value
  const c = clip.value
  const ticked = filterItems.value.some(f => f.checked)
  return (
    <section class="card" aria-labelledby="clip-h">
      <h3 id="clip-h">1. Your clip</h3>
      <div class="row">
        <label class="file">
          Open video
          <input type="file" accept="video/*" disabled={r != null} onChange={e => {
            const f = e.currentTarget.files?.[0]
            if (f != null) { clipError.value = null; setClip(f, f.name) }
          }} />
        </label>
        {r == null
          ? <button type="button" aria-describedby="record-help" onClick={() => { void record() }}>Record</button>
          : <button type="button" class="stop" onClick={() => { void stopRecording() }}>Stop recording</button>}
      </div>
      {r == null
        ? <small id="record-help">{ticked
          ? 'Record filters as you film: the ticked filters go to the room while the camera records, and the file is ready moments after Stop.'
          : 'Tick filters first to have the room filter while you record; with none ticked, Record only records.'}</small>
        : null}
      {clipError.value != null ? <Notice error={clipError.value} /> : null}
      {r != null
        ? (
          <>
            <video class="preview" aria-label="Camera" muted autoplay playsInline ref={v => { if (v != null && v.srcObject !== r.stream) v.srcObject = r.stream }} />
            <RecordingStatus r={r} />
          </>
          )
        : c != null
          ? <figure><video class="preview" aria-label={`Preview of ${c.name}`} controls playsInline src={c.url} /><figcaption>{c.name}, {(c.blob.size / 1e6).toFixed(1)} MB</figcaption></figure>
          : <p>Open a video from this device, or record one with the camera.</p>}
    </section>
  )
}

function update (name: string, f: (x: FilterItem) => FilterItem): void {
  filterItems.value = filterItems.value.map(x => x.name === name ? f(x) : x)
}

function FilterRow ({ f, first, last }: { f: FilterItem, first: boolean, last: boolean }) {
  return (
    <li class={f.checked ? 'filter on' : 'filter'}>
      <label class="check" title={f.description}>
        <input type="checkbox" checked={f.checked} onChange={e => { const on = e.currentTarget.checked; update(f.name, x => ({ ...x, checked: on })) }} />
        {f.title}
      </label>
      {f.checked
        ? (
          <div class="filter-more">
            {f.params.map(p => (
              <label key={p.name} class="slider">
                <span>{p.label}: {f.values[p.name]}</span>
                <input type="range" min={p.min} max={p.max} value={f.values[p.name]} aria-label={`${f.title}: ${p.label}`}
                  onInput={e => { const v = Number(e.currentTarget.value); update(f.name, x => ({ ...x, values: { ...x.values, [p.name]: v } })) }} />
              </label>
            ))}
            <span class="order">
              <button type="button" disabled={first} aria-label={`Move ${f.title} up`} onClick={() => { filterItems.value = move(filterItems.value, f.name, -1) }}>↑</button>
              <button type="button" disabled={last} aria-label={`Move ${f.title} down`} onClick={() => { filterItems.value = move(filterItems.value, f.name, 1) }}>↓</button>
            </span>
          </div>
          )
        : null}
    </li>
  )
}

function FilterStep () {
  const [error, setError] = useState<PlainError | null>(null)
  const items = filterItems.value
  const on = items.filter(f => f.checked)
  const add = async (file: File): Promise<void> => {
    setError(null)
    try {
      const bytes = new Uint8Array(await file.arrayBuffer())
      const info = checkCustomFilter(bytes)
      const p = peer.value
      if (p == null) throw new Error('the room is not joined yet: try again in a moment')
      const title = file.name.replace(/\.wasm$/i, '').slice(0, 40) || 'Custom filter'
      const item = customItem(file.name, await p.shareFilter(bytes, title, info.entries[0]), info)
      filterItems.value = [...filterItems.value.filter(x => x.name !== item.name), item]
    } catch (err) {
      setError(explain(err))
    }
  }
  return (
    <section class="card" aria-labelledby="filters-h">
      <h3 id="filters-h">2. Filters</h3>
      <fieldset class="filters">
        <legend class="sr-only">Filters</legend>
        <ul>{items.map((f, i) => <FilterRow key={f.name} f={f} first={i === 0} last={i === items.length - 1} />)}</ul>
      </fieldset>
      <p>{on.length === 0 ? 'Pick one filter or more.' : `Applied in this order: ${on.map(f => f.title).join(' → ')}`}</p>
      <label class="file">
        Add filter (.wasm)
        <input type="file" accept=".wasm,application/wasm" onChange={e => { const f = e.currentTarget.files?.[0]; if (f != null) void add(f); e.currentTarget.value = '' }} />
      </label>
      {error != null ? <Notice error={error} /> : null}
    </section>
  )
}

function TagStep () {
  const list = people.value
  return (
    <section class="card" aria-labelledby="tags-h">
      <h3 id="tags-h">3. Tags</h3>
      <fieldset>
        <legend>Who is in this clip?</legend>
        {list.map(p => (
          <label key={p.id} class="check">
            <input type="checkbox" checked={tagged.value.has(p.id)} onChange={e => {
              const next = new Set(tagged.value)
              if (e.currentTarget.checked) next.add(p.id)
              else next.delete(p.id)
              tagged.value = next
            }} />
            {p.name}{p.self ? ' (you)' : ''}
          </label>
        ))}
      </fieldset>
    </section>
  )
}

function RunStep () {
  const c = clip.value
  const on = filterItems.value.filter(f => f.checked)
  const p = peer.value
  const missing = p == null
    ? 'Joining the room…'
    : recording.value != null
      ? 'Recording… stop first.'
      : c == null ? 'Open or record a clip first.' : on.length === 0 ? 'Pick a filter first.' : ''
  const run = (): void => {
    if (p == null || c == null) return
    startVideoJob(p, {
      clip: c,
      filters: choices(filterItems.value),
      filterTitles: on.map(f => f.title),
      tags: taggedNames()
    })
    go('job')
  }
  return (
    <div class="run">
      <button type="button" class="primary" disabled={missing !== ''} aria-describedby="run-help" onClick={run}>Filter video</button>
      <small id="run-help">{missing === '' ? 'The room\'s volunteers share the work; follow it on Job.' : missing}</small>
    </div>
  )
}

export function EditScreen ({ hidden }: { hidden: boolean }) {
  return (
    <section class="screen" hidden={hidden} aria-labelledby="edit-h">
      <h2 id="edit-h">Edit</h2>
      <ClipStep />
      <FilterStep />
      <TagStep />
      <RunStep />
    </section>
  )
}
