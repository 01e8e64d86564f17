/**
 * The built-in 'chain' program: one input through several modules in
 * order (call i runs module i), in one pool task — an image through a
 * filter chain without a round trip per filter. Every call gets a fresh
 * instance, as a function task does; the output of one call is the input
 * of the next.
 */
import { InvalidMessageError } from '../core/errors.js'
import { decodeMessage, encodeMessage } from '../core/protocol/codec.js'
import { asObject, readBytes, readInt, readString, readVersion } from '../core/protocol/validate.js'
import { MAX_MEMORY_PAGES } from './abi.js'
import type { Program } from './executor.js'

export const CHAIN_PROGRAM = 'chain'
/** Calls in one chain at most. */
export const MAX_CHAIN_CALLS = 16
const MAX_CHAIN_PARAMS_BYTES = 64 * 1024

export interface ChainCall {
  entry: string
  params: Uint8Array
  /** Memory cap of this call's instance, in 64 KiB pages. */
  memoryPages: number
}

export function encodeChainParams (calls: ChainCall[]): Uint8Array {
  return encodeMessage({ v: 1, calls: calls.map(c => ({ entry: c.entry, params: c.params, memoryPages: c.memoryPages })) })
}

export function decodeChainParams (bytes: Uint8Array): ChainCall[] {
  const o = asObject(decodeMessage(bytes, { maxBytes: MAX_CHAIN_PARAMS_BYTES }), 'chain params')
  readVersion(o, 1, 'chain params')
  if (!Array.isArray(o.calls) || o.calls.length === 0 || o.calls.length > MAX_CHAIN_CALLS) {
    throw new InvalidMessageError(`chain params.calls must be a list of 1 to ${MAX_CHAIN_CALLS} calls`)
  }
  return o.calls.map((value, i): ChainCall => {
    const what = `chain params.calls[${i}]`
    const c = asObject(value, what)
    return { entry: readString(c, 'entry', what, 64), params: readBytes(c, 'params', what, 4096), memoryPages: readInt(c, 'memoryPages', what, 1, MAX_MEMORY_PAGES) }
  })
}

export const chainProgram: Program = async (req, host) => {
  const calls = decodeChainParams(req.params)
  if (calls.length !== req.modules.length) {
    throw new InvalidMessageError(`a chain of ${calls.length} calls needs ${calls.length} modules, not ${req.modules.length}`)
  }
  let data = req.input
  for (let i = 0; i < calls.length; i++) {
    const instance = await host.instantiate(i, calls[i].memoryPages)
    data = instance.call(calls[i].entry, data, calls[i].params)
  }
  // the last output is a view of an instance's memory, which cannot be transferred
  return data.slice()
}
