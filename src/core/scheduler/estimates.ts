import { POLICY } from './policy-config.js'
import type { Capabilities, PeerKind } from '../requirements/capabilities.js'

/**
 * Per-task time estimates, learned from observed durations.
 *
 * A task of function f on worker w is modelled as `work(f) / prior(w) ×
 * ratio(w, f)`: work(f) is the function's cost on a reference core (ms),
 * prior(w) the speed guessed from the worker's kind and cores, and ratio the
 * worker's measured slowness relative to that guess. Every term is an
 * exponentially weighted mean, so a worker that slows down (a throttled
 * phone, a busy laptop) is noticed within a few tasks.
 */
export interface EstimatorInit {
  /** Weight of a new observation in the moving means, 0..1. */
  alpha?: number
  /** Work of a function never observed, reference-core ms. */
  defaultWorkMs?: number
  /**
   * Samples a function's work estimate averages over once warm (a running
   * mean until then). Long: a function's cost does not change, and the
   * workers' ratios, which carry each worker's deviation, are measured
   * against it; a short window makes it wander with the mix of workers
   * reporting (a phone's result after a desktop's) and every ratio with it.
   */
  workWindow?: number
  /**
   * Least weight of a new run in a worker's slowness (overall, and per
   * function): a running mean over its first runs, then a moving one this
   * slow. At the moving means'
   * `alpha` (0.3, about six runs) the noise of a run's time (hidden input
   * content, a busy device) stayed in every estimate, and of a thousand
   * desktops the ones that looked fastest were the luckiest, not the
   * fastest: a 10,000-peer room gave its largest reduce to a desktop of
   * 1.35 reference cores while one of 1.97 was free.
   */
  ratioAlpha?: number
  /** Relative single-core speed by peer kind (browser = 1). */
  kindSpeed?: Partial<Record<PeerKind, number>>
}

/**
 * Dispersion (σ of the log of run time over expectation) assumed of a
 * worker not yet seen twice: exactly the late floor
 * (`POLICY.lateFloor`, `POLICY.lateSigmas`).
 */
export const DISPERSION_UNKNOWN = Math.log(POLICY.lateFloor) / POLICY.lateSigmas

/**
 * How many times its expected time a task may run on a worker of
 * dispersion `sigma` before it is overdue (its worker suspect): late beyond
 * the worker's own usual straying (`POLICY.lateSigmas` × σ), and never
 * less than `floor`.
 */
export function lateFactor (sigma: number, floor = POLICY.lateFloor): number {
  return Math.max(floor, Math.exp(POLICY.lateSigmas * sigma))
}

export class TaskTimeEstimator {
  private readonly alpha: number
  private readonly ratioAlpha: number
  private readonly defaultWorkMs: number
  private readonly workWindow: number
  private readonly kindSpeed: Record<PeerKind, number>
  private readonly work = new Map<string, number>()
  private readonly ratio = new Map<string, number>()
  private readonly pairMs = new Map<string, number>()
  /** Runs behind each `pairMs` mean. */
  private readonly pairRuns = new Map<string, number>()
  /** Sample counts, by worker id and by function cid (distinct key spaces in practice). */
  private readonly samples = new Map<string, number>()
  private readonly fnSamples = new Map<string, number>()
  /** Per worker: moving mean of the squared log-deviation of a run from its expectation. */
  private readonly logVar = new Map<string, number>()
  /** Per worker: moving means of the link's cost per task and of a task's compute, ms. */
  private readonly link = new Map<string, number>()
  private readonly typical = new Map<string, number>()
  /** Per worker: how many times its estimate a task has run there without a result (`observeOverrun`). */
  private readonly overrun = new Map<string, number>()
  /** Input bytes of the first sized task seen per function: the size `work` is quoted for. */
  private readonly refBytes = new Map<string, number>()
  /** Per worker: moving mean of the time a copy's function and input took to reach it, ms (`observeFetch`). */
  private readonly fetch = new Map<string, number>()
  /** Per worker: bumped whenever what is known of it changes (`versionOf`). */
  private readonly versions = new Map<string, number>()
  /** The room's: moving mean of the log of every worker's fetch time (a geometric mean: one slow link does not set it). */
  private fetchLog?: number

  constructor (init: EstimatorInit = {}) {
    this.alpha = init.alpha ?? POLICY.estimatorAlpha
    this.ratioAlpha = init.ratioAlpha ?? POLICY.ratioAlpha
    this.defaultWorkMs = init.defaultWorkMs ?? POLICY.defaultWorkMs
    this.workWindow = Math.max(1, init.workWindow ?? POLICY.workWindow)
    this.kindSpeed = { ...POLICY.kindSpeed, ...init.kindSpeed }
  }

  /** Speed guessed from the description alone (1 = a reference browser core). */
  prior (caps: Capabilities): number {
    // small devices with one or two cores also run slower cores; a phone's
    // cores run WASM at about half a laptop's speed (thermal and power limits)
    return this.kindSpeed[caps.kind] * (caps.cores >= 4 ? 1 : POLICY.fewCoresSpeed) * (caps.mobile === true ? POLICY.mobileSpeed : 1)
  }

  /** Estimated work of a function on a reference core, ms. */
  workMs (fnCid: string): number {
    const w = this.work.get(fnCid)
    if (w != null) return w
    // a new function: as heavy as the average one seen so far
    if (this.work.size === 0) return this.defaultWorkMs
    let sum = 0
    for (const x of this.work.values()) sum += x
    return sum / this.work.size
  }

  /** Whether the worker has reported at least one duration. */
  measured (workerId: string): boolean {
    return this.samples.has(workerId)
  }

  /** Measured slowness of a worker relative to its prior (1 = as guessed). */
  ratioOf (workerId: string): number {
    return (this.ratio.get(workerId) ?? 1) * (this.overrun.get(workerId) ?? 1)
  }

  /** The floor `observeOverrun` set under the worker's slowness (1: none). */
  overrunOf (workerId: string): number {
    return this.overrun.get(workerId) ?? 1
  }

  /**
   * Measured speed of one of the worker's slots in reference cores (prior ÷
   * measured slowness), or undefined before its first result.
   */
  speedOf (workerId: string, caps: Capabilities): number | undefined {
    return this.measured(workerId) ? this.prior(caps) / this.ratioOf(workerId) : undefined
  }

  /**
   * Records a task's cost on the link to the worker: the submitter's round
   * trip minus the time the worker held the task (protocol `heldMs`).
   */
  observeLink (workerId: string, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return
    this.bump(workerId)
    const m = this.link.get(workerId)
    this.link.set(workerId, m == null ? ms : m * (1 - this.alpha) + ms * this.alpha)
  }

  /** Measured cost of the link per task, ms (undefined until a remote result came back). */
  linkMs (workerId: string): number | undefined {
    return this.link.get(workerId)
  }

  /**
   * Records how long a copy's function and input took to reach the worker,
   * ms: from its dispatch to the worker's last word that they were still
   * arriving (protocol `phase: 'input'`), a slow link's or a large input's cost.
   */
  observeFetch (workerId: string, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return
    const m = this.fetch.get(workerId)
    this.fetch.set(workerId, m == null ? ms : m * (1 - this.alpha) + ms * this.alpha)
    const l = Math.log(1 + ms)
    this.fetchLog = this.fetchLog == null ? l : this.fetchLog * (1 - this.ratioAlpha) + l * this.ratioAlpha
  }

  /**
   * Expected time for a copy's function and input to reach the worker, ms:
   * its own measure; before one, the room's typical one; before any, one
   * report period (`POLICY.unknownLinkMs`).
   */
  fetchMs (workerId: string): number {
    return this.fetch.get(workerId) ?? (this.fetchLog == null ? POLICY.unknownLinkMs : Math.exp(this.fetchLog) - 1)
  }

  /**
   * A number that changes whenever the estimates of the worker change
   * (its speed, link, typical task, overrun floor): a placer kept across
   * calls re-keys only the workers whose version moved.
   */
  versionOf (workerId: string): number {
    return this.versions.get(workerId) ?? 0
  }

  private bump (workerId: string): void {
    this.versions.set(workerId, (this.versions.get(workerId) ?? 0) + 1)
  }

  /** A typical task's compute on the worker, ms, whatever the function (undefined before its first result). */
  typicalMs (workerId: string): number | undefined {
    return this.typical.get(workerId)
  }

  /**
   * The dispersion of the worker's run times around their expectation (σ
   * of the log ratio; `DISPERSION_UNKNOWN` until two runs of one function
   * were seen). A throttled or busy device strays more: late is only
   * suspicious beyond its own usual dispersion.
   */
  dispersion (workerId: string): number {
    const v = this.logVar.get(workerId)
    return v == null ? DISPERSION_UNKNOWN : Math.sqrt(v)
  }

  /** Whether a duration of this function has been seen. */
  knows (fnCid: string): boolean {
    return this.work.has(fnCid)
  }

  /** Time per unit of work on the worker (taskMs = workMs × this). */
  slowness (workerId: string, caps: Capabilities, fnCid: string): number {
    // measured on this function: its own moving mean, whatever the function's
    // average does; otherwise the worker's general slowness
    const ms = this.pairMs.get(pairKey(workerId, fnCid))
    if (ms != null) return ms * (this.overrun.get(workerId) ?? 1) / this.workMs(fnCid)
    return this.ratioOf(workerId) / this.prior(caps)
  }

  /**
   * Size of a task relative to the function's reference task, by input
   * bytes: a filter's or a map's work grows with its input (a tile's pixels,
   * a chunk's text), so a task twice the bytes is expected to take twice as
   * long. 1 for unsized tasks, and for every task of a function whose inputs
   * are all the same size (tiles of one picture, frames of one video).
   */
  sizeScale (fnCid: string, inputBytes: number): number {
    if (!(inputBytes > 0)) return 1
    const ref = this.refBytes.get(fnCid)
    if (ref == null) {
      this.refBytes.set(fnCid, inputBytes)
      return 1
    }
    return inputBytes / ref
  }

  /** Estimated time of one task of `fnCid` on the worker, ms (compute only); `scale` from `sizeScale`. */
  taskMs (workerId: string, caps: Capabilities, fnCid: string, scale = 1): number {
    return this.workMs(fnCid) * this.slowness(workerId, caps, fnCid) * scale
  }

  /**
   * Records that one task of `fnCid` took `ms` of compute on the worker;
   * `scale` (from `sizeScale`) normalises it to the reference size.
   */
  observe (workerId: string, caps: Capabilities, fnCid: string, ms: number, scale = 1): void {
    if (!(ms > 0) || !Number.isFinite(ms)) return
    this.bump(workerId)
    // a result: the worker's real speed is known again
    this.overrun.delete(workerId)
    const tm = this.typical.get(workerId)
    this.typical.set(workerId, tm == null ? ms : tm * (1 - this.alpha) + ms * this.alpha)
    if (scale > 0 && Number.isFinite(scale)) ms /= scale
    const a = this.alpha
    const prior = this.prior(caps)
    const known = this.work.get(fnCid)
    const r = this.ratio.get(workerId) ?? 1
    const pk = pairKey(workerId, fnCid)
    const pm = this.pairMs.get(pk)
    // how far this run strayed from what was expected of it, in log terms
    if (pm != null) {
      const d = Math.log(ms / pm)
      const v = this.logVar.get(workerId)
      this.logVar.set(workerId, v == null ? d * d : v * (1 - a) + d * d * a)
    }
    const pn = (this.pairRuns.get(pk) ?? 0) + 1
    this.pairRuns.set(pk, pn)
    const pa = Math.max(1 / pn, this.weight(pm, ms))
    this.pairMs.set(pk, pm == null ? ms : pm * (1 - pa) + ms * pa)
    if (known == null) {
      this.work.set(fnCid, ms * prior / r)
      this.fnSamples.set(fnCid, 1)
      this.samples.set(workerId, (this.samples.get(workerId) ?? 0) + 1)
      return
    }
    // the worker's slowness against the function's current estimate
    const observed = ms * prior / known
    const n = this.samples.get(workerId) ?? 0
    // the first sample of a worker replaces the guess outright
    const ra = Math.max(1 / (n + 1), this.weight(r, observed))
    const nr = !this.ratio.has(workerId) ? observed : r * (1 - ra) + observed * ra
    this.ratio.set(workerId, nr)
    this.samples.set(workerId, n + 1)
    // the function's work on a reference core: a running mean at first, then
    // a slow moving one, of each run corrected by its worker's measured
    // slowness (uncorrected, a function run mostly by devices slower than
    // their prior looked heavier than one run by the others, and a worker
    // looked faster or slower by the functions it happened to run)
    const fn = (this.fnSamples.get(fnCid) ?? 1) + 1
    this.fnSamples.set(fnCid, fn)
    const w = Math.max(1 / fn, 1 / this.workWindow)
    this.work.set(fnCid, known * (1 - w) + ms * prior / (n > 0 ? r : 1) * w)
  }

  /**
   * Weight of a new run in a slow moving mean: `ratioAlpha`, or the moving
   * means' `alpha` for a run off by more than 2× either way
   * (`POLICY.changedFactor`) — a
   * device that has really changed speed (a cgroup quota cut, a phone
   * gone hot) is followed within a few runs, not a dozen, while the
   * ordinary noise of runs stays averaged out.
   */
  private weight (mean: number | undefined, x: number): number {
    if (mean == null || !(mean > 0)) return this.ratioAlpha
    return Math.abs(Math.log(x / mean)) > Math.log(POLICY.changedFactor) ? Math.max(this.alpha, this.ratioAlpha) : this.ratioAlpha
  }

  /**
   * Records that a task has run `factor` times its expected time on the
   * worker and is not done yet: a censored sample, a floor under the
   * worker's slowness until its next result. A hidden straggler (a desktop
   * throttled to a tenth) returns no result for a long time; until then the
   * guess from its description made it look like one of the best workers
   * of the room, and it kept getting tasks. Kept apart from the moving
   * means (raising them from every run a little over its estimate biased
   * every worker slow); `measured` stays as it was.
   */
  observeOverrun (workerId: string, factor: number): boolean {
    if (!(factor > 1) || !Number.isFinite(factor)) return false
    if (factor <= (this.overrun.get(workerId) ?? 1)) return false
    this.overrun.set(workerId, factor)
    this.bump(workerId)
    return true
  }

  /** Drops what was learned about a worker (it left for good). */
  forget (workerId: string): void {
    this.bump(workerId)
    this.ratio.delete(workerId)
    this.overrun.delete(workerId)
    this.samples.delete(workerId)
    // pair entries are few per worker and harmless; they go with the estimator
  }
}

function pairKey (workerId: string, fnCid: string): string {
  return `${workerId}\u0000${fnCid}`
}
