import { FedraError, errorFromCode } from '../core/errors.js'

/**
 * A task named a module by key without sending its bytes, and neither the
 * pool nor any worker holds it. The caller fetches the module (by CID) and
 * retries with `module` set.
 */
export class ModuleNotCachedError extends FedraError {
  static override readonly code = 'ERR_MODULE_NOT_CACHED'
}

/** The pool was used before start() or after stop(). */
export class PoolNotRunningError extends FedraError {
  static override readonly code = 'ERR_POOL_NOT_RUNNING'
}

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
  if (e.code === ModuleNotCachedError.code) return new ModuleNotCachedError(e.message)
  return errorFromCode(e.code, e.message)
}
