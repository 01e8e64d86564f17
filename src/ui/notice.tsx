import type { PlainError } from './errors.js'

/** An error in plain words: what happened, and what happens next. */
export function Notice ({ error, role = 'alert' }: { error: PlainError, role?: 'alert' | 'status' }) {
  return (
    <div class="notice" role={role}>
      <strong>{error.title}.</strong> {error.detail} <span class="next">{error.next}</span>
    </div>
  )
}
