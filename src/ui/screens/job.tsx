/** Job: progress, ETA and throughput, the live strip of units by device, the result. */
import { useEffect, useState } from 'preact/hooks'
import { PAUSED_BY_PERSON } from '../../peer/job-runner.js'
import { canShareFile, share } from '../media.js'
import { Notice } from '../notice.js'
import { colourOf } from '../people.js'
import { recording, stopRecording } from '../recording.js'
import { go, people, peer } from '../state.js'
import { formatEta, rates, totalUnits, unitsOut } from '../video-progress.js'
import { cancelVideoJob, pauseVideoJob, run } from '../video-run.js'
import type { VideoProgress } from '../video-progress.js'

function useNow (active: boolean): number {
  const [now, setNow] = useState(performance.now())
  useEffect(() => {
    if (!active) return
    const t = setInterval(() => { setNow(performance.now()) }, 1000)
    return () => { clearInterval(t) }
  }, [active])
  return now
}

function nameOf (id: string): string {
  if (id === peer.value?.id) return 'You'
  return people.value.find(p => p.id === id)?.name ?? `a device that left (…${id.slice(-4)})`
}

function Strip ({ p }: { p: VideoProgress }) {
  const total = totalUnits(p)
  const cells = Array.from({ length: Math.max(total, p.units.length) }, (_, i) => p.units[i] ?? { index: i, stage: 'waiting' as const })
  return (
    <figure class="strip-figure">
      <div class="strip" role="img" aria-label={`${p.unitsDone} of ${total || '?'} units filtered, coloured by the device that computed each`}>
        {cells.map(u => {
          const colour = 'workerId' in u && u.workerId != null ? colourOf(u.workerId) : undefined
          return <span key={u.index} class={`unit ${u.stage}`} style={colour == null ? undefined : u.stage === 'done' ? { background: colour } : { borderColor: colour }} />
        })}
      </div>
      <figcaption>
        <ul class="legend" aria-label="Devices">
          {p.workers.map(w => <li key={w}><span class="swatch" style={{ background: colourOf(w) }} aria-hidden="true" />{nameOf(w)}: {p.units.filter(u => u.stage === 'done' && u.workerId === w).length} done</li>)}
        </ul>
        <small>Filled: done. Outlined: being computed. Grey: waiting.</small>
      </figcaption>
    </figure>
  )
}

function Result () {
  const r = run.value
  const [said, say] = useState('')
  if (r?.result == null) return null
  const res = r.result
  const file = new File([res.blob], res.fileName, { type: res.mimeType })
  return (
    <section class="card" aria-labelledby="result-h">
      <h3 id="result-h">Before and after</h3>
      <div class="compare">
        {r.clip.url != null ? <figure><video controls playsInline src={r.clip.url} aria-label="Before" /><figcaption>Before</figcaption></figure> : null}
        <figure><video controls playsInline src={res.url} aria-label="After" /><figcaption>After</figcaption></figure>
      </div>
      <div class="row">
        <a class="button primary" href={res.url} download={res.fileName}>Download</a>
        {canShareFile(file) ? <button type="button" onClick={() => { void share({ files: [file], title: res.fileName }).then(ok => { say(ok ? 'Shared.' : '') }) }}>Share</button> : null}
        <span role="status">{said}</span>
      </div>
      <p>{res.fileName}: {res.frames} frames in {(res.ms / 1000).toFixed(1)} s, {(res.blob.size / 1e6).toFixed(1)} MB.{r.readyAfterStopMs != null ? ` Ready ${(r.readyAfterStopMs / 1000).toFixed(1)} s after you stopped recording.` : ''}</p>
    </section>
  )
}

export function JobScreen ({ hidden }: { hidden: boolean }) {
  const r = run.value
  const now = useNow(r?.status === 'running' && !hidden)
  if (r == null) {
    return (
      <section class="screen" hidden={hidden} aria-labelledby="job-h">
        <h2 id="job-h">Job</h2>
        <p>No job yet. <button type="button" class="link" onClick={() => { go('edit') }}>Open a clip on Edit</button> and press Filter video.</p>
      </section>
    )
  }
  const p = r.progress
  const total = totalUnits(p)
  const { fps, etaS } = rates(p, now)
  const pct = r.status === 'done' ? 100 : total === 0 ? 0 : Math.floor(100 * p.unitsDone / total)
  // the runner says "paused by you" a moment after the button: the button is what counts
  const waiting = p.paused === PAUSED_BY_PERSON ? '' : p.paused
  const statusText = r.status === 'done'
    ? 'Done.'
    : r.status !== 'running'
      ? ''
      : r.paused
        ? `Paused: ${p.unitsDone} of ${total || '?'} units done. No unit goes out until you press Resume; those being computed finish.`
        : waiting !== ''
          ? `Waiting: ${waiting}. It goes on when a fitting volunteer joins.`
          : r.recording
            ? `Recording: ${unitsOut(p)} of the ${total} units recorded so far went out to the room, ${p.unitsDone} done. The next go out as the camera records; the file is ready moments after Stop.`
            : `${p.unitsDone} of ${total || '?'} units done. Time left: ${formatEta(etaS)}${etaS == null ? '' : '.'}`
  return (
    <section class="screen" hidden={hidden} aria-labelledby="job-h">
      <h2 id="job-h">Job</h2>
      <p>{r.clip.name}: {r.filterTitles.join(' → ')}{r.tags.length > 0 ? `. In it: ${r.tags.join(', ')}` : ''}.</p>
      <div class="bar" role="progressbar" aria-label="Job progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={`${pct} %`}>
        <span style={{ width: `${pct}%` }} />
      </div>
      <p role="status">{statusText}</p>
      <p>Throughput: {fps.toFixed(1)} frames/s{p.retries > 0 ? ` · ${p.retries} unit${p.retries === 1 ? '' : 's'} handed to another device` : ''}</p>
      <Strip p={p} />
      {r.status === 'running'
        ? (
          <div class="row">
            {r.recording && recording.value?.runId === r.id ? <button type="button" class="stop" onClick={() => { void stopRecording() }}>Stop recording</button> : null}
            <button type="button" onClick={() => { pauseVideoJob(!r.paused) }}>{r.paused ? 'Resume' : 'Pause'}</button>
            <button type="button" onClick={cancelVideoJob}>Cancel</button>
          </div>
          )
        : null}
      {r.error != null ? <Notice error={r.error} role={r.status === 'cancelled' ? 'status' : 'alert'} /> : null}
      <Result />
    </section>
  )
}
