import { InvalidMessageError, UnsupportedVersionError } from '../errors.js'

/**
 * Small field readers for messages from the network. Each one names the field
 * in its error so a malformed message is easy to diagnose from either side.
 */
export type Obj = Record<string, unknown>

export function asObject (value: unknown, what: string): Obj {
  if (value == null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidMessageError(`${what} must be a map`)
  }
  return value as Obj
}

export function readVersion (o: Obj, supported: number, what: string): void {
  const v = o.v
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidMessageError(`${what}: missing version`)
  if (v !== supported) throw new UnsupportedVersionError(`${what}: version ${v} is not supported (this peer speaks ${supported})`)
}

export function readString (o: Obj, key: string, what: string, max = 256): string {
  const v = o[key]
  if (typeof v !== 'string') throw new InvalidMessageError(`${what}.${key} must be a string`)
  if (v.length > max) throw new InvalidMessageError(`${what}.${key} is longer than ${max} characters`)
  return v
}

export function readOptionalString (o: Obj, key: string, what: string, max = 256): string | undefined {
  return o[key] == null ? undefined : readString(o, key, what, max)
}

export function readInt (o: Obj, key: string, what: string, min: number, max: number): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidMessageError(`${what}.${key} must be an integer in [${min}, ${max}]`)
  }
  return v
}

export function readNumber (o: Obj, key: string, what: string, min: number, max: number): number {
  const v = o[key]
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    throw new InvalidMessageError(`${what}.${key} must be a number in [${min}, ${max}]`)
  }
  return v
}

export function readBool (o: Obj, key: string, what: string): boolean {
  const v = o[key]
  if (typeof v !== 'boolean') throw new InvalidMessageError(`${what}.${key} must be a boolean`)
  return v
}

export function readBytes (o: Obj, key: string, what: string, max: number): Uint8Array {
  const v = o[key]
  if (!(v instanceof Uint8Array)) throw new InvalidMessageError(`${what}.${key} must be bytes`)
  if (v.byteLength > max) throw new InvalidMessageError(`${what}.${key} is larger than ${max} bytes`)
  return v
}

export function readStringArray (o: Obj, key: string, what: string, maxItems: number, maxLen = 256): string[] {
  const v = o[key]
  if (!Array.isArray(v) || v.length > maxItems) throw new InvalidMessageError(`${what}.${key} must be a list of at most ${maxItems} strings`)
  for (const s of v) {
    if (typeof s !== 'string' || s.length > maxLen) throw new InvalidMessageError(`${what}.${key} must hold strings of at most ${maxLen} characters`)
  }
  return v as string[]
}

export function readEnum<T extends string> (o: Obj, key: string, what: string, allowed: readonly T[]): T {
  const v = o[key]
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new InvalidMessageError(`${what}.${key} must be one of ${allowed.join(', ')}`)
  }
  return v as T
}
