import { FedraError, errorFromCode } from '../core/errors.js'

export { ModuleNotCachedError, PoolNotRunningError } from '../core/errors.js'

/** Serialised form of an error crossing the worker boundary. */
export interface WireError {
  code: string
  message: string
}

export function toWireError (err: unknown): WireError {
  if (err instanceof FedraError) return { code: err.code, message: err.message }
  return { code: FedraError.code, message: err instanceof Error ? err.message : String(err) }
}

export function fromWireError (e: WireError): FedraError {
  return errorFromCode(e.code, e.message)
}
