import { describe, expect, it } from 'vitest'
import { FedraError } from '../errors.js'
import { encodeMessage } from './codec.js'
import { MAX_ID_LENGTH, MAX_INLINE_BYTES, TASK_PROTOCOL, decodeFromWorker, decodeToWorker, encodeTaskMessage } from './task.js'
import type { FromWorker, TaskRequest, ToWorker } from './task.js'
import { thrown } from '../test-support.js'

const invalid = { name: 'InvalidMessageError', code: 'ERR_INVALID_MESSAGE' }
const tooLarge = { name: 'MessageTooLargeError', code: 'ERR_MESSAGE_TOO_LARGE' }
const badVersion = { name: 'UnsupportedVersionError', code: 'ERR_UNSUPPORTED_VERSION' }
const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill)

const task = (): TaskRequest => ({
  v: 1,
  t: 'task',
  id: 't-1',
  job: 'job-1',
  epoch: 3,
  fn: { cid: 'bafkreifn' },
  entry: 'grayscale',
  input: { cid: 'bafkreiinput' },
  params: new Uint8Array([1, 2, 3]),
  limits: { memoryPages: 16, timeoutMs: 30_000 },
  output: 'inline'
})

/** Encodes a deliberately wrong message (bypassing the typed encoder). */
const raw = (value: unknown): Uint8Array => encodeMessage(value)
const toWorker = (value: unknown): ToWorker => decodeToWorker(raw(value))
const fromWorker = (value: unknown): FromWorker => decodeFromWorker(raw(value))

describe('task protocol round trips', () => {
  it('names the protocol', () => {
    expect(TASK_PROTOCOL).toBe('/fedra/task/1.0.0')
  })

  const toWorkerMessages: ToWorker[] = [
    task(),
    { ...task(), fn: { cid: 'bafkreifn', bytes: bytes(100) }, input: { bytes: bytes(50) }, output: 'store', epoch: 0 },
    { ...task(), params: new Uint8Array(0), limits: { memoryPages: 65536, timeoutMs: 3_600_000 } },
    { v: 1, t: 'cancel', id: 't-1' },
    { ...task(), range: { from: 0, to: 32 }, partial: true },
    { ...task(), input: { cid: 'bafkreiinput', from: '12D3KooWowner' } },
    { ...task(), range: { from: 65_535, to: 65_536 }, partial: false },
    { v: 1, t: 'cut', id: 't-1', at: 17 },
    { v: 1, t: 'hello', nonce: bytes(32) },
    { v: 1, t: 'hello', nonce: bytes(16), proof: bytes(32) },
    { v: 1, t: 'proof', proof: bytes(32) }
  ]
  for (const msg of toWorkerMessages) {
    it(`to worker: ${msg.t} ${JSON.stringify(Object.keys(msg))}`, () => {
      const decoded = decodeToWorker(encodeTaskMessage(msg))
      expect(decoded).toEqual(msg)
      // decoding is a fixed point: encoding the decoded value gives the same bytes
      expect(encodeTaskMessage(decoded)).toEqual(encodeTaskMessage(msg))
    })
  }

  const fromWorkerMessages: FromWorker[] = [
    { v: 1, t: 'progress', id: 't-1', done: 3, total: 10 },
    { v: 1, t: 'progress', id: 't-1', done: 0, total: 0 },
    { v: 1, t: 'progress', id: 't-1', done: 5, total: 32, from: 3, outputs: bytes(12) },
    { v: 1, t: 'result', id: 't-1', output: { bytes: bytes(10) }, ms: 12.5, from: 4, to: 9 },
    { v: 1, t: 'result', id: 't-1', output: { bytes: bytes(4) }, ms: 1, from: 9, to: 9 },
    { v: 1, t: 'result', id: 't-1', output: { bytes: bytes(10) }, ms: 12.5 },
    { v: 1, t: 'result', id: 't-1', output: { cid: 'bafkreiout' }, ms: 0 },
    { v: 1, t: 'result', id: 't-1', output: { cid: 'bafkreiout' }, ms: 3.25, heldMs: 7.5 },
    { v: 1, t: 'result', id: 't-1', output: { cid: 'bafkreiout', from: 'w'.repeat(MAX_ID_LENGTH) }, ms: 1 },
    { v: 1, t: 'error', id: 't-1', code: 'ERR_FUNCTION_TRAP', message: 'unreachable' },
    { v: 1, t: 'error', id: '', code: 'ERR_NOT_ROOM_MEMBER', message: '' },
    { v: 1, t: 'hello', nonce: bytes(64), proof: bytes(32) },
    { v: 1, t: 'welcome' }
  ]
  for (const msg of fromWorkerMessages) {
    it(`from worker: ${msg.t} ${JSON.stringify(Object.keys(msg))}`, () => {
      const decoded = decodeFromWorker(encodeTaskMessage(msg))
      expect(decoded).toEqual(msg)
      expect(encodeTaskMessage(decoded)).toEqual(encodeTaskMessage(msg))
    })
  }

  it('refuses batch fields that do not make sense', () => {
    for (const range of [{ from: 3, to: 3 }, { from: 4, to: 2 }, { from: -1, to: 2 }, { from: 0, to: 65_537 }, { from: 0 }, [0, 1], { from: 0.5, to: 2 }]) {
      expect(thrown(() => toWorker({ ...task(), range }))).toMatchObject(invalid)
    }
    expect(thrown(() => toWorker({ ...task(), range: { from: 0, to: 2 }, partial: 'yes' }))).toMatchObject(invalid)
    for (const at of [0, -3, 65_537, 1.5, 'end']) expect(thrown(() => toWorker({ v: 1, t: 'cut', id: 't-1', at }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'cut', id: '', at: 3 }))).toMatchObject(invalid)
    // outputs of items not yet done, or without saying where they start
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 't-1', done: 3, total: 9, from: 3, outputs: bytes(4) }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 't-1', done: 3, total: 9, outputs: bytes(4) }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 't-1', done: 3, total: 9, from: 0, outputs: bytes(MAX_INLINE_BYTES + 1) }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 't-1', output: { bytes: bytes(1) }, ms: 1, from: 5, to: 4 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 't-1', output: { bytes: bytes(1) }, ms: 1, to: 4 }))).toMatchObject(invalid)
  })

  it('a provider hint (from) is a peer id of at most 128 characters, with a CID only', () => {
    expect(thrown(() => toWorker({ ...task(), input: { cid: 'c', from: 'x'.repeat(MAX_ID_LENGTH + 1) } }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ ...task(), input: { cid: 'c', from: 7 } }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c', from: ['p'] }, ms: 1 }))).toMatchObject(invalid)
    // inline bytes carry no hint: it is dropped like any unknown field
    expect(fromWorker({ v: 1, t: 'result', id: 'a', output: { bytes: bytes(2), from: 'p' }, ms: 1 })).toEqual({ v: 1, t: 'result', id: 'a', output: { bytes: bytes(2) }, ms: 1 })
  })

  it('refuses a held time out of range', () => {
    for (const heldMs of [-1, 'soon', Number.MAX_SAFE_INTEGER * 2]) {
      expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' }, ms: 1, heldMs }))).toMatchObject(invalid)
    }
  })

  it('an error without a message decodes with an empty message', () => {
    expect(fromWorker({ v: 1, t: 'error', id: 'x', code: 'ERR_X' })).toEqual({ v: 1, t: 'error', id: 'x', code: 'ERR_X', message: '' })
  })

  it('drops unknown fields', () => {
    expect(toWorker({ v: 1, t: 'cancel', id: 'a', extra: 'ignored' })).toEqual({ v: 1, t: 'cancel', id: 'a' })
    expect(toWorker({ ...task(), fn: { cid: 'c', other: 1 } })).toEqual({ ...task(), fn: { cid: 'c' } })
  })
})

describe('task protocol rejections', () => {
  it('oversized input is MessageTooLargeError', () => {
    const msg = encodeTaskMessage({ v: 1, t: 'hello', nonce: bytes(32) })
    expect(thrown(() => decodeToWorker(msg, { maxBytes: msg.byteLength - 1 }))).toMatchObject(tooLarge)
    expect(thrown(() => decodeFromWorker(msg, { maxBytes: 10 }))).toMatchObject(tooLarge)
    expect(decodeToWorker(msg, { maxBytes: msg.byteLength }).t).toBe('hello')
  })

  it('malformed CBOR and trailing bytes are InvalidMessageError', () => {
    const good = encodeTaskMessage(task())
    expect(thrown(() => decodeToWorker(good.subarray(0, good.byteLength - 1)))).toMatchObject(invalid)
    expect(thrown(() => decodeToWorker(new Uint8Array([...good, 0])))).toMatchObject(invalid)
    expect(thrown(() => decodeFromWorker(new Uint8Array([0xff, 0xff])))).toMatchObject(invalid)
  })

  it('duplicate map keys are InvalidMessageError', () => {
    // {"v":1,"v":1,"t":"welcome"}
    const dup = new Uint8Array([0xa3, 0x61, 0x76, 0x01, 0x61, 0x76, 0x01, 0x61, 0x74, 0x67, ...new TextEncoder().encode('welcome')])
    expect(thrown(() => decodeFromWorker(dup))).toMatchObject(invalid)
  })

  it('a message that is not a map is InvalidMessageError', () => {
    for (const v of [[1, 'task'], 'task', 1, null, true, new Uint8Array(3)]) {
      expect(thrown(() => toWorker(v))).toMatchObject(invalid)
      expect(thrown(() => fromWorker(v))).toMatchObject(invalid)
    }
  })

  it('another version is UnsupportedVersionError; a missing one is InvalidMessageError', () => {
    expect(thrown(() => toWorker({ ...task(), v: 2 }))).toMatchObject(badVersion)
    expect(thrown(() => fromWorker({ v: 0, t: 'welcome' }))).toMatchObject(badVersion)
    expect(thrown(() => toWorker({ t: 'cancel', id: 'a' }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: '1', t: 'welcome' }))).toMatchObject(invalid)
  })

  it('the version is checked before the type tag', () => {
    expect(thrown(() => toWorker({ v: 9, t: 'something-from-the-future' }))).toMatchObject(badVersion)
  })

  it('a wrong or missing type tag is InvalidMessageError, also across directions', () => {
    expect(thrown(() => toWorker({ v: 1, t: 'nope' }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1 }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 1 }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'welcome' }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' }, ms: 1 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker(task()))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'proof', proof: bytes(32) }))).toMatchObject(invalid)
  })

  const del = (o: Record<string, unknown>, k: string): Record<string, unknown> => {
    const c = { ...o }
    delete c[k]
    return c
  }

  it('every required task field is checked for presence', () => {
    for (const k of ['id', 'job', 'epoch', 'fn', 'entry', 'input', 'params', 'limits', 'output']) {
      expect(thrown(() => toWorker(del(task() as unknown as Record<string, unknown>, k))), k).toMatchObject(invalid)
    }
    expect(thrown(() => toWorker({ ...task(), fn: {} }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ ...task(), limits: { memoryPages: 1 } }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ ...task(), limits: { timeoutMs: 1 } }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'cancel' }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'hello' }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'proof' }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 'a', done: 1 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' } }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', ms: 1 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'error', id: 'a' }))).toMatchObject(invalid)
  })

  it('wrong-typed fields are InvalidMessageError', () => {
    const wrong: Array<Record<string, unknown>> = [
      { id: 1 }, { job: null }, { epoch: '3' }, { fn: 'bafk' }, { fn: { cid: 5 } }, { fn: { cid: 'c', bytes: 'AAAA' } },
      { entry: ['x'] }, { input: 'bafk' }, { input: { cid: 1 } }, { input: { bytes: [1, 2] } }, { params: 'p' }, { params: [1] },
      { limits: [16, 100] }, { limits: { memoryPages: '16', timeoutMs: 1 } }, { limits: { memoryPages: 16, timeoutMs: true } },
      { output: 'stdout' }, { output: 1 }
    ]
    for (const w of wrong) expect(thrown(() => toWorker({ ...task(), ...w })), JSON.stringify(w)).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'hello', nonce: 'x'.repeat(32) }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'hello', nonce: bytes(32), proof: 'p' }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 'a', done: '1', total: 2 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' }, ms: '1' }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'error', id: 'a', code: 5 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'error', id: 'a', code: 'E', message: 5 }))).toMatchObject(invalid)
  })

  it('out-of-range integers are InvalidMessageError', () => {
    const wrong: Array<Record<string, unknown>> = [
      { epoch: -1 }, { epoch: 1.5 }, { epoch: Number.NaN }, { epoch: Infinity },
      { limits: { memoryPages: 0, timeoutMs: 1 } }, { limits: { memoryPages: 65537, timeoutMs: 1 } }, { limits: { memoryPages: 1.5, timeoutMs: 1 } },
      { limits: { memoryPages: 1, timeoutMs: 0 } }, { limits: { memoryPages: 1, timeoutMs: 3_600_001 } }
    ]
    for (const w of wrong) expect(thrown(() => toWorker({ ...task(), ...w })), JSON.stringify(w)).toMatchObject(invalid)
    expect(toWorker({ ...task(), epoch: Number.MAX_SAFE_INTEGER }).t).toBe('task')
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 'a', done: -1, total: 2 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: 'a', done: 1, total: 0.5 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' }, ms: -0.1 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' }, ms: Infinity }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c' }, ms: Number.NaN }))).toMatchObject(invalid)
  })

  it('too-long strings are InvalidMessageError, the limit itself is accepted', () => {
    const at = (n: number): string => 'x'.repeat(n)
    expect(toWorker({ ...task(), id: at(MAX_ID_LENGTH), job: at(MAX_ID_LENGTH), entry: at(64), fn: { cid: at(256) }, input: { cid: at(256) } }).t).toBe('task')
    const wrong: Array<Record<string, unknown>> = [
      { id: at(MAX_ID_LENGTH + 1) }, { job: at(MAX_ID_LENGTH + 1) }, { entry: at(65) }, { fn: { cid: at(257) } }, { input: { cid: at(257) } }
    ]
    for (const w of wrong) expect(thrown(() => toWorker({ ...task(), ...w })), Object.keys(w)[0]).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'cancel', id: at(MAX_ID_LENGTH + 1) }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'progress', id: at(MAX_ID_LENGTH + 1), done: 0, total: 0 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: at(257) }, ms: 0 }))).toMatchObject(invalid)
    expect(fromWorker({ v: 1, t: 'error', id: 'a', code: at(64), message: at(1024) }).t).toBe('error')
    expect(thrown(() => fromWorker({ v: 1, t: 'error', id: 'a', code: at(65), message: '' }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'error', id: 'a', code: 'E', message: at(1025) }))).toMatchObject(invalid)
  })

  it('a data ref must hold exactly one of cid and bytes', () => {
    expect(thrown(() => toWorker({ ...task(), input: { cid: 'c', bytes: bytes(1) } }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ ...task(), input: {} }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { cid: 'c', bytes: bytes(1) }, ms: 1 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: {}, ms: 1 }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: null, ms: 1 }))).toMatchObject(invalid)
    expect(toWorker({ ...task(), input: { bytes: new Uint8Array(0) } })).toMatchObject({ input: { bytes: new Uint8Array(0) } })
  })

  it('inline bytes over their limits are InvalidMessageError', () => {
    expect(toWorker({ ...task(), input: { bytes: bytes(MAX_INLINE_BYTES) } }).t).toBe('task')
    expect(thrown(() => toWorker({ ...task(), input: { bytes: bytes(MAX_INLINE_BYTES + 1) } }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ ...task(), fn: { cid: 'c', bytes: bytes(MAX_INLINE_BYTES + 1) } }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'result', id: 'a', output: { bytes: bytes(MAX_INLINE_BYTES + 1) }, ms: 1 }))).toMatchObject(invalid)
    expect(toWorker({ ...task(), params: bytes(64 * 1024) }).t).toBe('task')
    expect(thrown(() => toWorker({ ...task(), params: bytes(64 * 1024 + 1) }))).toMatchObject(invalid)
  })

  it('handshake nonces are 16..64 bytes and proofs at most 64 bytes', () => {
    expect(toWorker({ v: 1, t: 'hello', nonce: bytes(16) }).t).toBe('hello')
    expect(fromWorker({ v: 1, t: 'hello', nonce: bytes(64) }).t).toBe('hello')
    expect(thrown(() => toWorker({ v: 1, t: 'hello', nonce: bytes(15) }))).toMatchObject(invalid)
    expect(thrown(() => fromWorker({ v: 1, t: 'hello', nonce: bytes(65) }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'hello', nonce: bytes(32), proof: bytes(65) }))).toMatchObject(invalid)
    expect(thrown(() => toWorker({ v: 1, t: 'proof', proof: bytes(65) }))).toMatchObject(invalid)
    expect(toWorker({ v: 1, t: 'proof', proof: bytes(64) }).t).toBe('proof')
  })

  it('every rejection is a FedraError', () => {
    expect(thrown(() => toWorker({ ...task(), epoch: -1 }))).toBeInstanceOf(FedraError)
  })
})
