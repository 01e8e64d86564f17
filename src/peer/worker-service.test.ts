import { describe, expect, it } from 'vitest'
import { WorkerService } from './worker-service.js'
import type { FunctionRunner } from './types.js'
import type { ProgressReport } from './worker-service.js'
import type { TaskRequest } from '../core/protocol/task.js'
import type { FedraBlocks } from '../storage/blocks.js'

/**
 * The worker's side of overlapping transfer and compute: a task queued
 * behind a running one fetches its input at once, so when the slot frees
 * its input is already here. Deferred promises, no clock: each step waits
 * for the one before.
 */

const FN = 'bafk-fn'

interface Deferred { promise: Promise<void>, resolve: () => void }
function deferred (): Deferred {
  let resolve = (): void => {}
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

function request (id: string, cid: string): TaskRequest {
  return {
    v: 1,
    t: 'task',
    id,
    job: 'job-1',
    epoch: 1,
    fn: { cid: FN },
    entry: 'run',
    input: { cid, from: 'owner' },
    params: new Uint8Array(0),
    limits: { timeoutMs: 60_000, memoryPages: 256 },
    output: 'inline'
  }
}

describe('WorkerService: inputs of queued tasks', () => {
  it('fetches the input of a task queued behind a running one while that one runs, and says it is arriving', async () => {
    const events: string[] = []
    const inputs = new Map([['bafk-a', deferred()], ['bafk-b', deferred()]])
    const blocks = {
      get: async (cid: string): Promise<Uint8Array> => {
        events.push(`fetch ${cid}`)
        await inputs.get(cid)?.promise
        events.push(`arrived ${cid}`)
        return new Uint8Array([cid.charCodeAt(cid.length - 1)])
      },
      put: async () => 'unused'
    }
    // one slot: a task waits for the one before it to end
    let slot: Promise<void> = Promise.resolve()
    const finishA = deferred()
    const runner: FunctionRunner = {
      run: async (task, options) => {
        const before = slot
        const mine = deferred()
        slot = mine.promise
        await before
        options?.onStart?.()
        events.push(`run ${task.input[0]}`)
        if (task.input[0] === 'a'.charCodeAt(0)) await finishA.promise
        mine.resolve()
        return { output: task.input, ms: 1 }
      }
    }
    const service = new WorkerService({ blocks: blocks as unknown as FedraBlocks, runner })
    service.functions.set(FN, new Uint8Array([0]))
    const reportsB: Array<ProgressReport | undefined> = []
    const signal = new AbortController().signal
    const a = service.handle(request('a', 'bafk-a'), signal, () => {})
    inputs.get('bafk-a')?.resolve()
    await until(() => events.includes('run 97'))
    const b = service.handle(request('b', 'bafk-b'), signal, p => { reportsB.push(p) })
    // b's input is asked for while a still runs
    expect(events).toEqual(['fetch bafk-a', 'arrived bafk-a', 'run 97', 'fetch bafk-b'])
    expect(reportsB[0]?.phase).toBe('input')
    expect(service.running).toBe(1)
    expect(service.queued).toBe(1)
    inputs.get('bafk-b')?.resolve()
    await until(() => events.includes('arrived bafk-b'))
    expect(events.includes('run 98')).toBe(false)
    finishA.resolve()
    await Promise.all([a, b])
    expect(events).toEqual(['fetch bafk-a', 'arrived bafk-a', 'run 97', 'fetch bafk-b', 'arrived bafk-b', 'run 98'])
    expect(service.completed).toBe(2)
    expect(service.queued + service.running).toBe(0)
  })
})

/** Yields to pending promise callbacks until `ok()` holds (a bounded number of turns). */
async function until (ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise(resolve => setTimeout(resolve, 0))
  if (!ok()) throw new Error('the expected step did not happen')
}
