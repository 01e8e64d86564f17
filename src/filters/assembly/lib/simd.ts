// Helpers for the SIMD builds (`asc --enable simd`, public/filters/*.simd.wasm).
// Filters call them only inside `if (ASC_FEATURE_SIMD)`, a compile-time
// constant, so the scalar (MVP) builds never compile them.
//
// Four RGBA pixels fill one v128 as four i32 lanes: memory is little-endian,
// so R is a lane's low byte and A its high byte. Every helper computes
// exactly what the scalar code computes, lane by lane, so both builds give
// the same bytes.

// Bit offsets of the channels inside a lane.
export const RED: i32 = 0
export const GREEN: i32 = 8
export const BLUE: i32 = 16

// One channel of four pixels, as i32 lanes 0..255.
// @ts-ignore: decorator
@inline
export function channel(px: v128, shift: i32): v128 {
  return v128.and(i32x4.shr_u(px, shift), i32x4.splat(0xff))
}

// The alpha bytes of four pixels, left in place (the other bytes zero).
// @ts-ignore: decorator
@inline
export function alphaOf(px: v128): v128 {
  return v128.and(px, i32x4.splat(<i32>0xff000000))
}

// Four pixels from channels 0..255 and alpha bytes in place.
// @ts-ignore: decorator
@inline
export function pack(r: v128, g: v128, b: v128, a: v128): v128 {
  return v128.or(v128.or(r, i32x4.shl(g, 8)), v128.or(i32x4.shl(b, 16), a))
}

// (wr*r + wg*g + wb*b + 128) >> 8 in each lane: an 8.8 fixed-point weighting.
// @ts-ignore: decorator
@inline
export function weigh(r: v128, g: v128, b: v128, wr: i32, wg: i32, wb: i32): v128 {
  const s = i32x4.add(i32x4.add(i32x4.mul(r, i32x4.splat(wr)), i32x4.mul(g, i32x4.splat(wg))), i32x4.mul(b, i32x4.splat(wb)))
  return i32x4.shr_u(i32x4.add(s, i32x4.splat(128)), 8)
}
