/** Seeded PRNG (mulberry32) and the few distributions the simulator draws from. */
export class Rng {
  private a: number

  constructor (seed: number) {
    this.a = (seed >>> 0) ^ 0x9e3779b9
  }

  /** Uniform in [0, 1). */
  next (): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0
    let t = this.a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  uniform (lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }

  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  chance (p: number): boolean {
    return this.next() < p
  }

  normal (): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Log-normal with the given mean and shape σ. */
  lognormal (mean: number, sigma: number): number {
    return mean * Math.exp(sigma * this.normal() - sigma * sigma / 2)
  }

  /** An index drawn with the given weights. */
  weighted (weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0)
    let x = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]
      if (x < 0) return i
    }
    return weights.length - 1
  }
}
