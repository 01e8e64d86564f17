/**
 * Fedra scheduling simulator, the CLI around src/core/sim.
 *
 *   npm run sim -- --peers 10000 --tasks 100000 --churn 0.2 --seed 1 \
 *     [--scheduler ect|least-loaded|local-only|all] [--backups on|off|both] \
 *     [--quorum 2 --liars 0.01] [--stragglers 0.01] [--oracle] \
 *     [--progress 500] [--resumable on|off] [--split on|off] [--items 32]
 *
 * --progress: workers report progress on running tasks this often (ms; 0:
 * never), so a silent leaver holding tasks is noticed after three missed
 * reports. Map tasks are batch tasks of --items items (default 32; 0: one
 * indivisible call each), as the runtime runs them (src/peer/worker-service.ts):
 * --resumable: a lost run keeps the items up to its last report; --split: in
 * the tail, running maps are cut at an item boundary and their last items go
 * to idle workers, and a silent worker's task is cut after its last reported
 * item (src/core/scheduler/split.ts). Both on by default.
 * --oracle also schedules each job clairvoyantly (src/core/sim/oracle.ts)
 * and prints makespan / that schedule's (about 30 s more at 10k peers).
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
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
    help: { type: 'boolean', default: false }
  }
})

if (values.help) {
  console.log('usage: npm run sim -- --peers N --tasks N --churn F --seed N [--scheduler ect|least-loaded|local-only|all] [--backups on|off|both] [--quorum K --liars F] [--stragglers F] [--reducers N] [--oracle] [--progress MS] [--resumable on|off] [--split on|off] [--items N]')
  process.exit(0)
}

const schedulers: SchedulerChoice[] = values.scheduler === 'all' ? ['ect', 'least-loaded', 'local-only'] : [values.scheduler as SchedulerChoice]
const backupModes = values.backups === 'both' ? [false, true] : [values.backups === 'on']

const rows: Array<{ r: SimResult, backups: boolean, wallS: number }> = []
for (const scheduler of schedulers) {
  for (const backups of backupModes) {
    const t0 = performance.now()
    const r = simulate({
      seed: Number(values.seed),
      peers: Number(values.peers),
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
      ...(values.items != null ? { workload: { mapItems: Number(values.items) } } : {}),
      clock: () => performance.now()
    })
    rows.push({ r, backups, wallS: (performance.now() - t0) / 1000 })
  }
}

const s = (ms: number): string => (ms / 1000).toFixed(1)
console.log(`peers ${values.peers}, tasks ${values.tasks}, churn ${values.churn}, seed ${values.seed}, quorum ${values.quorum}, liars ${values.liars}, stragglers ${values.stragglers}`)
console.table(rows.map(({ r, backups, wallS }) => ({
  scheduler: r.scheduler,
  backups: backups ? 'on' : 'off',
  'makespan s': s(r.makespanMs),
  'bound s': s(r.lowerBoundMs),
  'work/crit s': `${s(r.workBoundMs)}/${s(r.criticalPathMs)}`,
  'ratio': r.ratio.toFixed(3),
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
  'µs/task': r.meanDecisionUs.toFixed(1),
  'wall s': wallS.toFixed(1)
})))
