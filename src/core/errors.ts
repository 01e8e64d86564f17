/**
 * Typed errors. Callers branch on `name` / `code`, never on message text;
 * messages are written for the person who will read them in the UI.
 */
export class FedraError extends Error {
  static readonly code: string = 'ERR_FEDRA'
  readonly code: string

  constructor (message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code ?? (new.target as unknown as { code: string }).code
    // spelled out, not new.target.name: minified builds rename classes
    this.name = ERROR_NAMES[this.code] ?? 'FedraError'
  }
}

/** A message from the network failed validation (wrong shape, version, type). */
export class InvalidMessageError extends FedraError {
  static override readonly code = 'ERR_INVALID_MESSAGE'
}

/** A message or payload is larger than the limit the receiver accepts. */
export class MessageTooLargeError extends FedraError {
  static override readonly code = 'ERR_MESSAGE_TOO_LARGE'
}

/** The protocol version of a message is not one we speak. */
export class UnsupportedVersionError extends FedraError {
  static override readonly code = 'ERR_UNSUPPORTED_VERSION'
}

/** The remote peer has not proven it holds the room key. */
export class NotRoomMemberError extends FedraError {
  static override readonly code = 'ERR_NOT_ROOM_MEMBER'
}

/** A room link could not be parsed. */
export class InvalidRoomLinkError extends FedraError {
  static override readonly code = 'ERR_INVALID_ROOM_LINK'
}

/** Admission control refused a job; the message names the unmet requirement. */
export class AdmissionRefusedError extends FedraError {
  static override readonly code = 'ERR_ADMISSION_REFUSED'
}

/** A WASM module is malformed, imports something not allowed, or breaks the ABI. */
export class InvalidModuleError extends FedraError {
  static override readonly code = 'ERR_INVALID_MODULE'
}

/** A function trapped while running (unreachable, out of bounds, ...). */
export class FunctionTrapError extends FedraError {
  static override readonly code = 'ERR_FUNCTION_TRAP'
}

/** A function returned a negative status: it reported its own failure. */
export class FunctionFailedError extends FedraError {
  static override readonly code = 'ERR_FUNCTION_FAILED'
}

/** A function ran past its deadline and its worker was terminated. */
export class DeadlineExceededError extends FedraError {
  static override readonly code = 'ERR_DEADLINE_EXCEEDED'
}

/** A function tried to use more memory than its cap. */
export class MemoryLimitError extends FedraError {
  static override readonly code = 'ERR_MEMORY_LIMIT'
}

/** The worker executing a task went away before answering. */
export class WorkerLostError extends FedraError {
  static override readonly code = 'ERR_WORKER_LOST'
}

/** A content block could not be found, or failed its hash check. */
export class BlockError extends FedraError {
  static override readonly code = 'ERR_BLOCK'
}

/** The operation was cancelled through its AbortSignal. */
export class AbortedError extends FedraError {
  static override readonly code = 'ERR_ABORTED'
}


/** A task named a module by key without its bytes, and the pool does not hold it. */
export class ModuleNotCachedError extends FedraError {
  static override readonly code = 'ERR_MODULE_NOT_CACHED'
}

/** The worker pool was used before start() or after stop(). */
export class PoolNotRunningError extends FedraError {
  static override readonly code = 'ERR_POOL_NOT_RUNNING'
}

/** A microcontroller board reported a failure that has no closer Fedra error. */
export class BoardError extends FedraError {
  static override readonly code = 'ERR_BOARD'
}
/** A file or codec this browser cannot read, decode or encode; the message names it. */
export class UnsupportedMediaError extends FedraError {
  static override readonly code = 'ERR_UNSUPPORTED_MEDIA'
}

/** Decoding, filtering, encoding or muxing a video failed on its data. */
export class VideoProcessingError extends FedraError {
  static override readonly code = 'ERR_VIDEO_PROCESSING'
}

/** A filter a job names cannot be used: not in the catalog, not an image filter, not built, or named without its entry point. */
export class InvalidFilterError extends FedraError {
  static override readonly code = 'ERR_INVALID_FILTER'
}

/** Class names by code, as strings so they survive minification. */
const ERROR_NAMES: Record<string, string> = {
  ERR_INVALID_MESSAGE: 'InvalidMessageError',
  ERR_MESSAGE_TOO_LARGE: 'MessageTooLargeError',
  ERR_UNSUPPORTED_VERSION: 'UnsupportedVersionError',
  ERR_NOT_ROOM_MEMBER: 'NotRoomMemberError',
  ERR_INVALID_ROOM_LINK: 'InvalidRoomLinkError',
  ERR_ADMISSION_REFUSED: 'AdmissionRefusedError',
  ERR_INVALID_MODULE: 'InvalidModuleError',
  ERR_FUNCTION_TRAP: 'FunctionTrapError',
  ERR_FUNCTION_FAILED: 'FunctionFailedError',
  ERR_DEADLINE_EXCEEDED: 'DeadlineExceededError',
  ERR_MEMORY_LIMIT: 'MemoryLimitError',
  ERR_WORKER_LOST: 'WorkerLostError',
  ERR_BLOCK: 'BlockError',
  ERR_ABORTED: 'AbortedError',
  ERR_MODULE_NOT_CACHED: 'ModuleNotCachedError',
  ERR_POOL_NOT_RUNNING: 'PoolNotRunningError',
  ERR_BOARD: 'BoardError',
  ERR_UNSUPPORTED_MEDIA: 'UnsupportedMediaError',
  ERR_VIDEO_PROCESSING: 'VideoProcessingError',
  ERR_INVALID_FILTER: 'InvalidFilterError'
}

/** Errors that may cross the wire, by code, so a remote failure keeps its type. */
const byCode: Record<string, new (message: string) => FedraError> = {
  [InvalidMessageError.code]: InvalidMessageError,
  [MessageTooLargeError.code]: MessageTooLargeError,
  [UnsupportedVersionError.code]: UnsupportedVersionError,
  [NotRoomMemberError.code]: NotRoomMemberError,
  [AdmissionRefusedError.code]: AdmissionRefusedError,
  [InvalidModuleError.code]: InvalidModuleError,
  [FunctionTrapError.code]: FunctionTrapError,
  [FunctionFailedError.code]: FunctionFailedError,
  [DeadlineExceededError.code]: DeadlineExceededError,
  [MemoryLimitError.code]: MemoryLimitError,
  [WorkerLostError.code]: WorkerLostError,
  [BlockError.code]: BlockError,
  [AbortedError.code]: AbortedError,
  [ModuleNotCachedError.code]: ModuleNotCachedError,
  [PoolNotRunningError.code]: PoolNotRunningError,
  [BoardError.code]: BoardError,
  [UnsupportedMediaError.code]: UnsupportedMediaError,
  [VideoProcessingError.code]: VideoProcessingError,
  [InvalidFilterError.code]: InvalidFilterError
}

/** Rebuilds a typed error from a code and message received from a peer. */
export function errorFromCode (code: string, message: string): FedraError {
  const Ctor = byCode[code]
  return Ctor != null ? new Ctor(message) : new FedraError(message, code)
}

/** The code of any thrown value, for sending over the wire. */
export function codeOf (err: unknown): string {
  if (err instanceof FedraError) return err.code
  if (err instanceof Error && err.name === 'AbortError') return AbortedError.code
  return FedraError.code
}
