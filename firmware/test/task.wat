;; Test function for the board (Fedra ABI v1). Exports:
;;   run  - output = input reversed, then the byte sum as u32 LE
;;   spin - loops N times (N = u32 LE in params), output = u32 checksum
;;   fail - returns -7 (a function-reported error)
;;   boom - traps (unreachable)
(module
  (memory (export "memory") 1 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $out (mut i32) (i32.const 0))
  (func $alloc (export "fedra_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "fedra_output_ptr") (result i32) (global.get $out))
  (func (export "run") (param $in i32) (param $len i32) (param $pp i32) (param $pl i32) (result i32)
    (local $i i32) (local $sum i32) (local $b i32)
    (global.set $out (call $alloc (i32.add (local.get $len) (i32.const 4))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $in) (local.get $i))))
        (i32.store8
          (i32.sub (i32.add (global.get $out) (local.get $len)) (i32.add (local.get $i) (i32.const 1)))
          (local.get $b))
        (local.set $sum (i32.add (local.get $sum) (local.get $b)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.store (i32.add (global.get $out) (local.get $len)) (local.get $sum))
    (i32.add (local.get $len) (i32.const 4)))
  (func (export "spin") (param $in i32) (param $len i32) (param $pp i32) (param $pl i32) (result i32)
    (local $n i32) (local $acc i32)
    (local.set $n (i32.load (local.get $pp)))
    (local.set $acc (i32.const 1))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (global.set $out (call $alloc (i32.const 4)))
    (i32.store (global.get $out) (local.get $acc))
    (i32.const 4))
  (func (export "fail") (param i32 i32 i32 i32) (result i32) (i32.const -7))
  (func (export "boom") (param i32 i32 i32 i32) (result i32) (unreachable))
)
