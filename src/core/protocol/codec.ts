import { decode, encode } from 'cborg'
import { InvalidMessageError, MessageTooLargeError } from '../errors.js'

/** Default upper bound for one protocol message (a task input travels inline). */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

export interface DecodeLimits {
  maxBytes?: number
}

/** Canonical CBOR: the same value always gives the same bytes. */
export function encodeMessage (value: unknown): Uint8Array {
  // an absent optional field is left out, never sent as CBOR undefined
  return encode(value, { ignoreUndefinedProperties: true })
}

/**
 * Decodes one CBOR value with hard limits: the size is checked before any
 * parsing, and cborg's strict mode rejects duplicate keys, indefinite lengths
 * and trailing bytes, so a hostile peer cannot make us allocate or loop.
 */
export function decodeMessage (bytes: Uint8Array, limits: DecodeLimits = {}): unknown {
  const max = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (bytes.byteLength > max) {
    throw new MessageTooLargeError(`message of ${bytes.byteLength} bytes exceeds the ${max}-byte limit`)
  }
  try {
    return decode(bytes, {
      strict: true,
      rejectDuplicateMapKeys: true,
      allowUndefined: false,
      allowInfinity: true,
      allowNaN: true,
      allowIndefinite: false,
      allowBigInt: false,
      useMaps: false
    })
  } catch (err) {
    throw new InvalidMessageError(`malformed CBOR: ${(err as Error).message}`)
  }
}
