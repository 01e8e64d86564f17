/**
 * Fedra scheduling simulator, the CLI around src/core/sim: a simulated
 * room runs a MapReduce job, and the decisions are the job policy's
 * (src/core/job), the code a browser runs.
 *
 *   npm run sim -- --peers 10000 --tasks 100000 --churn 0.2 --seed 1 \
 *     [--scheduler ect|least-loaded|local-only|all] [--backups on|off|both] \
 *     [--quorum 2 --liars 0.01] [--stragglers 0.01] [--oracle] \
 *     [--progress 500] [--resumable on|off] [--split on|off] [--items 32] \
 *     [--late-binding on|off] [--event-tick MS] [--mcu 0.1]
 *
 * The policy's options, as `runTasks` takes them: --scheduler (the
 * application scheduler; 'ect' is a browser's default), --backups,
 * --quorum, --split (tail splits, spreads and cuts of batch tasks),
 * --late-binding (off by default, as in `runTasks`).
 * The world: --progress (workers report on running copies this often, ms;
 * 0: never), --resumable (workers send a batch copy's items' outputs with
 * their reports, so a lost run keeps them), --items (items of a typical
 * map, a batch task; 0: indivisible maps), --stragglers, --liars.
 * The loop: the policy ticks every 250 ms (`POLICY.tickMs`) and after each
 * event that wakes the runner (a copy ended, a peer lost); --event-tick
 * makes those at most one per MS ms (default 0 under 1,000 peers; 250
 * from 1,000: a runner's tick over thousands of peers costs about that).
 * --mcu F: the share of microcontrollers drawn (default 0.1; the other
 * profiles keep theirs).
 * --oracle also schedules each job clairvoyantly (src/core/sim/oracle.ts)
 * and prints makespan / that schedule's.
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { POLICY } from '../src/core/scheduler/policy-config.js'
import { simulate } from '../src/core/sim/simulator.js'
import type { SchedulerChoice, SimResult } from '../src/core/sim/simulator.js'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '1000' },
    tasks: { type: 'string', default: '10000' },
    churn: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    scheduler: { type: 'string', default: 'ect' },
    backups: { type: 'string', default: 'both' },
    quorum: { type: 'string', default: '1' },
    liars: { type: 'string', default: '0' },
    stragglers: { type: 'string', default: '0.01' },
    reducers: { type: 'string' },
    oracle: { type: 'boolean', default: false },
    progress: { type: 'string', default: '500' },
    resumable: { type: 'string', default: 'on' },
    split: { type: 'string', default: 'on' },
    items: { type: 'string' },
    'late-binding': { type: 'string', default: 'off' },
    'event-tick': { type: 'string' },
    mcu: { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})

if (values.help) {
  console.log('usage: npm run sim -- --peers N --tasks N --churn F --seed N [--scheduler ect|least-loaded|local-only|all] [--backups on|off|both] [--quorum K --liars F] [--stragglers F] [--reducers N] [--oracle] [--progress MS] [--resumable on|off] [--split on|off] [--items N] [--late-binding on|off] [--event-tick MS] [--mcu F]')
  process.exit(0)
}

const peers = Number(values.peers)
const eventTickMs = values['event-tick'] != null ? Number(values['event-tick']) : peers >= 1000 ? POLICY.tickMs : 0
const schedulers: SchedulerChoice[] = values.scheduler === 'all' ? ['ect', 'least-loaded', 'local-only'] : [values.scheduler as SchedulerChoice]
const backupModes = values.backups === 'both' ? [false, true] : [values.backups === 'on']

const rows: Array<{ r: SimResult, backups: boolean, wallS: number }> = []
for (const scheduler of schedulers) {
  for (const backups of backupModes) {
    const t0 = performance.now()
    const r = simulate({
      seed: Number(values.seed),
      peers,
      tasks: Number(values.tasks),
      churn: Number(values.churn),
      scheduler,
      backups,
      quorum: Number(values.quorum),
      liars: Number(values.liars),
      stragglers: Number(values.stragglers),
      reducers: values.reducers != null ? Number(values.reducers) : undefined,
      oracle: values.oracle,
      progressMs: Number(values.progress),
      resumable: values.resumable !== 'off',
      split: values.split !== 'off',
      lateBinding: values['late-binding'] === 'on',
      eventTickMs,
      ...(values.mcu != null ? { mix: { mcu: Number(values.mcu) } } : {}),
      ...(values.items != null ? { workload: { mapItems: Number(values.items) } } : {}),
      clock: () => performance.now()
    })
    rows.push({ r, backups, wallS: (performance.now() - t0) / 1000 })
  }
}

const s = (ms: number): string => (ms / 1000).toFixed(1)
console.log(`peers ${values.peers}, tasks ${values.tasks}, churn ${values.churn}, seed ${values.seed}, quorum ${values.quorum}, liars ${values.liars}, stragglers ${values.stragglers}, ticks on events at most every ${eventTickMs} ms`)
console.table(rows.map(({ r, backups, wallS }) => ({
  scheduler: r.scheduler,
  backups: backups ? 'on' : 'off',
  'makespan s': s(r.makespanMs),
  'bound s': s(r.lowerBoundMs),
  'work/crit s': `${s(r.workBoundMs)}/${s(r.criticalPathMs)}`,
  ratio: r.ratio.toFixed(3),
  // a clairvoyant schedule of the same room and job: what knowing every size, speed and leave would reach
  'oracle s': r.oracleMs != null ? s(r.oracleMs) : '-',
  '/oracle': r.oracleMs != null ? (r.makespanMs / r.oracleMs).toFixed(3) : '-',
  done: `${r.completed}/${r.tasks}`,
  're-exec': r.reExecuted,
  'backups (won)': `${r.backupsLaunched} (${r.backupsWon})`,
  moved: r.steals,
  // tail splits of running tasks / waiting tasks spread as placed / cuts of quiet (or never started) copies
  'splits/spreads/cuts': `${r.splits}/${r.spreads}/${r.quietCuts}`,
  dups: r.duplicates,
  'liars caught': `${r.liarsCaught}/${r.liars}`,
  'wrong kept': r.wrongAccepted,
  ticks: r.ticks,
  // the policy's own time (ticks, reports, results) per copy it sent, and of it in ticks
  'µs/copy': r.meanDecisionUs.toFixed(1),
  'in ticks': r.decisions > 0 ? (r.tickDecisionMs * 1000 / r.decisions).toFixed(1) : '-',
  'wall s': wallS.toFixed(1)
})))
