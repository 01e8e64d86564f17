import { describe, expect, it } from 'vitest'
import { createExecutor } from './executor.js'
import { tinyModule } from './test-support.js'

/**
 * Entry "run" adds one to the i32 at offset 16 and outputs it: a fresh
 * instance answers 1, an instance called before answers more.
 */
const counter = tinyModule({
  runBody: [0, 0x41, 16, 0x41, 16, 0x28, 2, 0, 0x41, 1, 0x6a, 0x36, 2, 0, 0x41, 4, 0x0b]
})
const req = { key: 'counter', module: counter, entry: 'run', input: new Uint8Array(0), params: new Uint8Array(0), memoryPages: 4 }

describe('executor: an instance made ahead (prepare)', () => {
  it('the counter module keeps state within one instance', async () => {
    const instance = await createExecutor().instantiate(req)
    expect([...instance.call('run', new Uint8Array(0), new Uint8Array(0))]).toEqual([1, 0, 0, 0])
    expect([...instance.call('run', new Uint8Array(0), new Uint8Array(0))]).toEqual([2, 0, 0, 0])
  })

  it('gives every task an instance no task has called, prepared ahead or not', async () => {
    const executor = createExecutor()
    for (let i = 0; i < 4; i++) {
      const r = await executor.run(req)
      expect([...r.output]).toEqual([1, 0, 0, 0])
      if (i % 2 === 0) executor.prepare()
    }
    // a spare is its module's and cap's alone
    executor.prepare()
    const other = await executor.run({ ...req, memoryPages: 8 })
    expect([...other.output]).toEqual([1, 0, 0, 0])
    expect(executor.compiles).toBe(2)
  })

  it('runs a module with a start function from a prepared instance', async () => {
    const started = tinyModule({ start: true })
    const executor = createExecutor()
    const input = new Uint8Array([1, 2, 3])
    const first = await executor.run({ ...req, key: 'start', module: started, input })
    executor.prepare()
    const second = await executor.run({ ...req, key: 'start', input })
    expect([...first.output]).toEqual([1, 2, 3])
    expect([...second.output]).toEqual([1, 2, 3])
  })
})
