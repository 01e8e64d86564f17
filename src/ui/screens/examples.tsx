/**
 * Examples: the still-image and word-count demos, and the devices with
 * their measured speed (a developer's view, out of the main path).
 */
import { useEffect, useRef } from 'preact/hooks'
import { FILTERS } from '../../filters/catalog.js'
import { controls, decodeImage, demos, idleNotes, jobBar, jobStatus, original, result, text, wordCountText } from '../demo-jobs.js'
import { titleOf } from '../filters.js'
import { colourOf } from '../people.js'
import { peer, people } from '../state.js'
import type { Placement, Rgba } from '../demo-jobs.js'
import type { ImageJobResult } from '../../peer/image-job.js'

function RgbaCanvas ({ image, job, label }: { image: Rgba, job?: ImageJobResult, label: string }) {
  const ref = useRef<HTMLCanvasElement>(null)
  useEffect(() => {
    const canvas = ref.current
    const ctx = canvas?.getContext('2d')
    if (canvas == null || ctx == null) return
    canvas.width = image.width
    canvas.height = image.height
    ctx.putImageData(new ImageData(new Uint8ClampedArray(image.rgba), image.width, image.height), 0, 0)
    if (job == null) return
    ctx.lineWidth = 2
    for (const tile of job.tiles) {
      ctx.strokeStyle = colourOf(job.owners[tile.index])
      ctx.strokeRect(tile.x + 1, tile.y + 1, tile.width - 2, tile.height - 2)
    }
  }, [image, job])
  return <canvas ref={ref} role="img" aria-label={label} />
}

function Select<T extends string | number> ({ label, value, options, onPick, title }: { label: string, value: T, options: Array<[T, string]>, onPick: (v: T) => void, title?: string }) {
  return (
    <label title={title}>{label}{' '}
      <select value={String(value)} onChange={e => { const v = e.currentTarget.value; onPick((typeof value === 'number' ? Number(v) : v) as T) }}>
        {options.map(([v, text]) => <option key={String(v)} value={String(v)}>{text}</option>)}
      </select>
    </label>
  )
}

function Devices () {
  const p = peer.value
  const notes = idleNotes.value
  if (p == null) return null
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Devices">
      <table>
        <caption>Devices and their measured speed</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col" title="Measured speed of one slot, in reference cores; and why a volunteer got no task in the last job">Speed</th><th scope="col">Link</th></tr></thead>
        <tbody>
          {people.value.map(x => {
            const caps = x.self ? p.capabilities : p.registry.get(x.id)?.beat.caps
            const speed = caps == null ? undefined : p.estimator.speedOf(x.id, caps)
            const idle = notes.get(x.id)
            return (
              <tr key={x.id} data-peer={x.id}>
                <td><span class="swatch" style={{ background: x.colour }} aria-hidden="true" />{x.name}</td>
                <td>{x.kind}</td>
                <td>{speed == null ? 'not measured' : `${speed.toFixed(speed < 0.1 ? 3 : 2)} core`}{idle != null ? <span class="idle">idle in the last job: {idle}</span> : null}</td>
                <td>{x.link}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

const guard = (fn: () => Promise<unknown>) => () => {
  fn().catch((err: Error) => { jobStatus.value = `${err.name}: ${err.message}` })
}

export function ExamplesScreen ({ hidden }: { hidden: boolean }) {
  const d = demos.value
  const r = result.value
  const c = controls
  return (
    <section class="screen" hidden={hidden} aria-labelledby="examples-h">
      <h2 id="examples-h">Examples</h2>
      <p>Smaller jobs that show the room at work: a still image filtered in tiles, and a word count as MapReduce.</p>
      <div class="row wrap">
        <Select label="Filter" value={c.filter.value} onPick={v => { c.filter.value = v }} options={FILTERS.filter(f => f.kind === 'image').map(f => [f.name, titleOf(f)])} />
        <Select label="Tile (px)" value={c.tileSize.value} onPick={v => { c.tileSize.value = v }} options={[[32, '32'], [64, '64'], [128, '128']]} />
        <Select label="Tiles per task" value={c.tilesPerTask.value} onPick={v => { c.tilesPerTask.value = v }} options={[[1, '1'], [4, '4'], [8, '8'], [16, '16']]}
          title="A task of several tiles runs them one by one; near the end of the job the room splits the last tasks between idle devices" />
        <Select<Placement> label="Place on" value={c.placement.value} onPick={v => { c.placement.value = v }} options={[['fastest', 'fastest finish'], ['everyone', 'every device'], ['local', 'this device']]}
          title="Fastest: place each task where it is expected to finish first (slow devices may get nothing). Every device: spread tasks over all volunteers. This device: run here only." />
        <Select label="Check results" value={c.quorum.value} onPick={v => { c.quorum.value = v }} options={[[1, 'no'], [2, 'on 2 peers'], [3, 'on 3 peers']]}
          title="Run each task on this many different volunteers and keep only results they agree on" />
      </div>
      <div class="row wrap">
        <label class="file">Image <input type="file" accept="image/*" onChange={e => { const f = e.currentTarget.files?.[0]; if (f != null) void decodeImage(f).then(img => { original.value = img }) }} /></label>
        <button type="button" disabled={d == null} onClick={guard(async () => d?.imageJob())}>Filter image</button>
        <label class="file">Text <input type="file" accept="text/*,.txt,.md" onChange={e => { const f = e.currentTarget.files?.[0]; void (f == null ? Promise.resolve(undefined) : f.arrayBuffer().then(b => new Uint8Array(b))).then(t => { text.value = t }) }} /></label>
        <button type="button" disabled={d == null} onClick={guard(async () => d?.wordCount())}>Word count</button>
        {'serial' in navigator ? <button type="button" disabled={d == null} onClick={guard(async () => d?.adoptBoard())}>Add a USB board…</button> : null}
      </div>
      <progress id="job-progress" aria-label="Example progress" value={jobBar.value.value} max={jobBar.value.max} />
      <p id="job-status" role="status">{jobStatus.value}</p>
      <div class="images">
        <figure><RgbaCanvas image={original.value} label="Original image" /><figcaption>Original</figcaption></figure>
        <figure>{r != null ? <RgbaCanvas image={r} job={r.job} label="Filtered image" /> : <p>No result yet.</p>}<figcaption>Result (outline colour: the device that computed the tile)</figcaption></figure>
      </div>
      {wordCountText.value !== '' ? <pre id="wordcount-output" tabIndex={0} aria-label="Most frequent words">{wordCountText.value}</pre> : null}
      <Devices />
    </section>
  )
}
