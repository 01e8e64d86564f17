/**
 * Errors in plain words: what happened, and what happens next. Typed Fedra
 * errors are recognised by name (src/core/errors.ts), never by message.
 */
export interface PlainError {
  title: string
  detail: string
  next: string
}

export const LOST_CONNECTION: PlainError = {
  title: 'Lost the connection',
  detail: 'This device reaches neither the relay nor anyone in the room.',
  next: 'What is done is kept. Fedra keeps the peers it still reaches; when you are back online, reload to rejoin the same room (the link stays the same).'
}

export function explain (err: unknown): PlainError {
  const e = err instanceof Error ? err : new Error(String(err))
  switch (e.name) {
    case 'AdmissionRefusedError':
      return { title: 'No device in the room can run this yet', detail: e.message, next: 'Nothing was sent. Ask someone whose device offers it to switch Volunteer on, or open the room on a stronger device, then try again.' }
    case 'InvalidModuleError':
      return { title: 'This filter cannot be used', detail: e.message, next: 'It was not added. Pick a .wasm module built for the Fedra function ABI (see docs/abi.md).' }
    case 'InvalidFilterError':
      return { title: 'A filter of this job cannot run', detail: e.message, next: 'Nothing was sent. Uncheck it on Edit and filter the video again.' }
    case 'InvalidRoomLinkError':
      return { title: 'That is not a room link', detail: e.message, next: 'Copy the whole link again (it ends in #/r/…), or scan the room\'s QR code.' }
    case 'AbortError':
    case 'AbortedError':
      return { title: 'Cancelled', detail: 'The job was stopped.', next: 'Nothing more runs for it. Start it again from Edit when you like.' }
    case 'NotAllowedError':
      return { title: 'The camera is not allowed', detail: e.message, next: 'Allow the camera for this page in the browser\'s settings, or open a video file instead.' }
    case 'NotFoundError':
      return { title: 'No camera found', detail: e.message, next: 'Open a video file instead.' }
    case 'WorkerLostError':
      return { title: 'A device left the room', detail: e.message, next: 'Its work goes back to the others.' }
    default:
      return { title: 'Something went wrong', detail: `${e.name}: ${e.message}`, next: 'Try again; if it keeps failing, reload the page (the room link stays the same).' }
  }
}
