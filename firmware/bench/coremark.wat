;; A CoreMark-like integer workload (not CoreMark itself): per iteration a
;; 16x16 i32 matrix multiply-accumulate, a br_table state machine over 1 KiB
;; of text, and reversal + traversal of a 64-node linked list; results are
;; folded into a CRC-16. Import-free, fits in one 64 KiB page.
;;   main()   host benchmark: 1000 iterations
;;   run(...) Fedra ABI v1 entry: params = u32 iterations (default 4)
(module
  (memory (export "memory") 1)
  ;; layout: A at 4096, B at 5120, C at 6144 (16x16 i32 each), text at 8192
  ;; (1024 bytes), list nodes at 12288 (64 x {next i32, val i32})
  (func $crc16 (param $crc i32) (param $v i32) (result i32)
    (local $k i32)
    (local.set $k (i32.const 16))
    (loop $l
      (local.set $crc (select
        (i32.xor (i32.shr_u (local.get $crc) (i32.const 1)) (i32.const 0xA001))
        (i32.shr_u (local.get $crc) (i32.const 1))
        (i32.and (i32.xor (local.get $crc) (local.get $v)) (i32.const 1))))
      (local.set $v (i32.shr_u (local.get $v) (i32.const 1)))
      (br_if $l (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    (i32.and (local.get $crc) (i32.const 0xFFFF)))
  (func $init
    (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (i32.const 256)))
      (i32.store offset=4096 (i32.shl (local.get $i) (i32.const 2)) (i32.sub (i32.and (i32.mul (local.get $i) (i32.const 7)) (i32.const 31)) (i32.const 15)))
      (i32.store offset=5120 (i32.shl (local.get $i) (i32.const 2)) (i32.sub (i32.and (i32.mul (local.get $i) (i32.const 13)) (i32.const 63)) (i32.const 31)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (i32.const 1024)))
      ;; digits, letters, spaces, commas, dots
      (i32.store8 offset=8192 (local.get $i)
        (i32.load8_u offset=16384 (i32.rem_u (i32.mul (local.get $i) (i32.const 2654435761)) (i32.const 16))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $i (i32.const 0))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (i32.const 64)))
      (i32.store offset=12288 (i32.shl (local.get $i) (i32.const 3))
        (select (i32.add (i32.const 12296) (i32.shl (local.get $i) (i32.const 3))) (i32.const 0) (i32.lt_u (local.get $i) (i32.const 63))))
      (i32.store offset=12292 (i32.shl (local.get $i) (i32.const 3)) (i32.mul (local.get $i) (i32.const 37)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (data (i32.const 16384) "0123,. ab9.,7 x5")
  (func $matmul (result i32)
    (local $i i32) (local $j i32) (local $k i32) (local $s i32) (local $t i32)
    (block $di (loop $li
      (br_if $di (i32.ge_u (local.get $i) (i32.const 16)))
      (local.set $j (i32.const 0))
      (block $dj (loop $lj
        (br_if $dj (i32.ge_u (local.get $j) (i32.const 16)))
        (local.set $s (i32.const 0))
        (local.set $k (i32.const 0))
        (block $dk (loop $lk
          (br_if $dk (i32.ge_u (local.get $k) (i32.const 16)))
          (local.set $s (i32.add (local.get $s) (i32.mul
            (i32.load offset=4096 (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 4)) (local.get $k)) (i32.const 2)))
            (i32.load offset=5120 (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 4)) (local.get $j)) (i32.const 2))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $lk)))
        (i32.store offset=6144 (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 4)) (local.get $j)) (i32.const 2)) (local.get $s))
        (local.set $t (i32.add (local.get $t) (local.get $s)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $li)))
    (local.get $t))
  ;; states: 0 start, 1 int, 2 float, 3 word, 4 invalid; returns transitions*16+final
  (func $scan (result i32)
    (local $i i32) (local $st i32) (local $c i32) (local $cls i32) (local $tr i32) (local $new i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (i32.const 1024)))
      (local.set $c (i32.load8_u offset=8192 (local.get $i)))
      ;; class: 0 digit, 1 dot, 2 letter, 3 separator
      (local.set $cls
        (if (result i32) (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)) (then (i32.const 0))
          (else (if (result i32) (i32.eq (local.get $c) (i32.const 46)) (then (i32.const 1))
            (else (if (result i32) (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26)) (then (i32.const 2))
              (else (i32.const 3))))))))
      (local.set $new
        (block $b4 (result i32) (block $b3 (block $b2 (block $b1 (block $b0
          (br_table $b0 $b1 $b2 $b3 (local.get $cls)))
          ;; digit
          (br $b4 (select (i32.const 1) (local.get $st) (i32.le_u (local.get $st) (i32.const 1)))))
          ;; dot
          (br $b4 (select (i32.const 2) (i32.const 4) (i32.le_u (local.get $st) (i32.const 1)))))
          ;; letter
          (br $b4 (select (i32.const 3) (i32.const 4) (i32.or (i32.eqz (local.get $st)) (i32.eq (local.get $st) (i32.const 3))))))
          (i32.const 0)))
      (local.set $tr (i32.add (local.get $tr) (i32.ne (local.get $new) (local.get $st))))
      (local.set $st (local.get $new))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.add (i32.shl (local.get $tr) (i32.const 4)) (local.get $st)))
  ;; reverse the list in place, then sum values weighted by position
  (func $list (result i32)
    (local $p i32) (local $prev i32) (local $next i32) (local $s i32) (local $k i32)
    (local.set $p (i32.load (i32.const 16380)))
    (block $d (loop $l
      (br_if $d (i32.eqz (local.get $p)))
      (local.set $next (i32.load (local.get $p)))
      (i32.store (local.get $p) (local.get $prev))
      (local.set $prev (local.get $p))
      (local.set $p (local.get $next))
      (br $l)))
    (i32.store (i32.const 16380) (local.get $prev))
    (local.set $p (local.get $prev))
    (block $d (loop $l
      (br_if $d (i32.eqz (local.get $p)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (local.set $s (i32.add (local.get $s) (i32.mul (i32.load offset=4 (local.get $p)) (local.get $k))))
      (local.set $p (i32.load (local.get $p)))
      (br $l)))
    (local.get $s))
  (func $bench (export "bench") (param $n i32) (result i32)
    (local $crc i32)
    (call $init)
    (i32.store (i32.const 16380) (i32.const 12288))
    (block $d (loop $l
      (br_if $d (i32.eqz (local.get $n)))
      (local.set $crc (call $crc16 (local.get $crc) (call $matmul)))
      (local.set $crc (call $crc16 (local.get $crc) (call $scan)))
      (local.set $crc (call $crc16 (local.get $crc) (call $list)))
      (i32.store offset=4096 (i32.const 0) (i32.add (i32.load offset=4096 (i32.const 0)) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $crc))
  (func (export "main") (result i32) (call $bench (i32.const 1000)))
  (func (export "fedra_alloc") (param $n i32) (result i32) (i32.const 2048))
  (func (export "fedra_output_ptr") (result i32) (i32.const 1024))
  (func (export "run") (param $in i32) (param $inLen i32) (param $pp i32) (param $pl i32) (result i32)
    (local $n i32)
    (local.set $n (i32.const 4))
    (if (i32.ge_u (local.get $pl) (i32.const 4)) (then (local.set $n (i32.load (local.get $pp)))))
    (i32.store (i32.const 1024) (call $bench (local.get $n)))
    (i32.const 4))
)
