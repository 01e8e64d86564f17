/** Small helpers for benchmark figures. */
export function median (xs: number[]): number {
  return quantile(xs, 0.5)
}

export function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  const hi = Math.ceil(i)
  return s[lo] + (s[hi] - s[lo]) * (i - lo)
}

export function fmt (x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a'
}

export function table (rows: Array<Record<string, string>>): string {
  const cols = Object.keys(rows[0] ?? {})
  const width = cols.map(c => Math.max(c.length, ...rows.map(r => (r[c] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(width[i])).join('  ')
  return [line(cols), line(width.map(w => '-'.repeat(w))), ...rows.map(r => line(cols.map(c => r[c] ?? '')))].join('\n')
}
