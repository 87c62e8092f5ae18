;; Our single-precision matrix product for the tfjs `wasm` backend (see gemm.ts for why and for
;; the measurements). Template: scripts/build-kernels.mjs fills in
;;   {{memory}}           the import of the backend's heap (private, or shared for the threaded build)
;;   {{madd $acc $x $y}}  $acc += $x * $y on f32x4: relaxed SIMD's fused multiply-add, or mul + add
;; as gemm.kernel.ts says for each variant.
;;
;; gemmK / gemmR compute, for register tiles i < mt, j < nt,
;;   C[4i .. 4i+3, 8j .. 8j+7] (= or +=) sum over k of A-tile x B-tile
;; with every pointer and stride in bytes:
;; - B's tile j starts at b + j*bTile and steps bK per k (8 adjacent floats at each step);
;; - gemmK: A is k-major, A's tile i starts at a + i*aTile and steps aK per k (its 4 rows are
;;   4 adjacent floats, loaded as one vector and broadcast lane by lane);
;;   gemmR: A is row-major, A's tile i starts at a + i*aTile, its 4 rows aK apart, k contiguous;
;; - C's tile starts at c + 4i*ldc + 32j, rows ldc apart; accumulate != 0 adds to C.
;; A 4x8 tile is 8 f32x4 accumulators ($accRV: row R, columns 4V .. 4V+3), which TurboFan keeps in
;; registers with the two B vectors and the broadcast; wider tiles spilled and ran slower.
(module
  (type $gemm (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (type $gather (func (param i32 i32 i32 i32 i32 i32)))
  (type $addRuns (func (param i32 i32 i32 i32 i32)))
  {{memory}}

  ;; C (=|+=) A B with A k-major ([K, M]).
  (func $gemmK (export "gemmK") (type $gemm)
    (param $mt i32) (param $nt i32) (param $k i32) (param $a i32) (param $aTile i32) (param $aK i32)
    (param $b i32) (param $bTile i32) (param $bK i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    ;; $p1 .. $p3 (gemmR's row pointers) are unused here: both functions declare the same locals, as
    ;; the hand-assembled module these bytes must equal did.
    (local $i i32) (local $j i32) (local $ap i32) (local $bp i32) (local $cp i32) (local $kk i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $acc00 v128) (local $acc01 v128) (local $acc10 v128) (local $acc11 v128)
    (local $acc20 v128) (local $acc21 v128) (local $acc30 v128) (local $acc31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128) (local $t v128)
    (local.set $i (i32.const 0))
    (loop $tileRows
      (local.set $j (i32.const 0))
      (loop $tileCols
        ;; The tile's accumulators start at zero.
        (local.set $acc00 (v128.const i32x4 0 0 0 0)) (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc10 (v128.const i32x4 0 0 0 0)) (local.set $acc11 (v128.const i32x4 0 0 0 0))
        (local.set $acc20 (v128.const i32x4 0 0 0 0)) (local.set $acc21 (v128.const i32x4 0 0 0 0))
        (local.set $acc30 (v128.const i32x4 0 0 0 0)) (local.set $acc31 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $aTile))))
        (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bTile))))
        (local.set $kk (local.get $k))
        ;; One k per pass: B's 8 floats as two vectors, A's 4 floats as one vector whose lane r,
        ;; broadcast, multiplies into row r of the tile.
        (loop $depth
          (local.set $b0 (v128.load (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $av (v128.load (local.get $ap)))
          (local.set $t (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $av) (local.get $av)))
          {{madd $acc00 $t $b0}}
          {{madd $acc01 $t $b1}}
          (local.set $t (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $av) (local.get $av)))
          {{madd $acc10 $t $b0}}
          {{madd $acc11 $t $b1}}
          (local.set $t (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $av) (local.get $av)))
          {{madd $acc20 $t $b0}}
          {{madd $acc21 $t $b1}}
          (local.set $t (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $av) (local.get $av)))
          {{madd $acc30 $t $b0}}
          {{madd $acc31 $t $b1}}
          (local.set $ap (i32.add (local.get $ap) (local.get $aK)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bK)))
          (br_if $depth (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))
        ;; cp = c + 4i*ldc + 32j: the tile's first row in C.
        (local.set $cp
          (i32.add
            (i32.add (local.get $c) (i32.mul (i32.mul (local.get $i) (i32.const 4)) (local.get $ldc)))
            (i32.mul (local.get $j) (i32.const 32))))
        ;; With accumulate, C's tile is added first; then the tile is stored row by row.
        (if (local.get $accumulate)
          (then
            (local.set $acc00 (f32x4.add (local.get $acc00) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 0))))))
            (local.set $acc01 (f32x4.add (local.get $acc01) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 0))))))
            (local.set $acc10 (f32x4.add (local.get $acc10) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 1))))))
            (local.set $acc11 (f32x4.add (local.get $acc11) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 1))))))
            (local.set $acc20 (f32x4.add (local.get $acc20) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 2))))))
            (local.set $acc21 (f32x4.add (local.get $acc21) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 2))))))
            (local.set $acc30 (f32x4.add (local.get $acc30) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3))))))
            (local.set $acc31 (f32x4.add (local.get $acc31) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3))))))))
        (v128.store (local.get $cp) (local.get $acc00))
        (v128.store offset=16 (local.get $cp) (local.get $acc01))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $acc10))
        (v128.store offset=16 (local.get $cp) (local.get $acc11))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $acc20))
        (v128.store offset=16 (local.get $cp) (local.get $acc21))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $acc30))
        (v128.store offset=16 (local.get $cp) (local.get $acc31))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (br_if $tileCols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $nt))))
      (br_if $tileRows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $mt)))))

  ;; C (=|+=) A B with A row-major ([M, K]).
  (func $gemmR (export "gemmR") (type $gemm)
    (param $mt i32) (param $nt i32) (param $k i32) (param $a i32) (param $aTile i32) (param $aK i32)
    (param $b i32) (param $bTile i32) (param $bK i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    ;; $ap, $p1, $p2, $p3: the tile's 4 rows of A, each advancing 4 bytes per k. $av is gemmK's,
    ;; unused here (the same locals in both functions, as in the hand-assembled module).
    (local $i i32) (local $j i32) (local $ap i32) (local $bp i32) (local $cp i32) (local $kk i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $acc00 v128) (local $acc01 v128) (local $acc10 v128) (local $acc11 v128)
    (local $acc20 v128) (local $acc21 v128) (local $acc30 v128) (local $acc31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128) (local $t v128)
    (local.set $i (i32.const 0))
    (loop $tileRows
      (local.set $j (i32.const 0))
      (loop $tileCols
        (local.set $acc00 (v128.const i32x4 0 0 0 0)) (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc10 (v128.const i32x4 0 0 0 0)) (local.set $acc11 (v128.const i32x4 0 0 0 0))
        (local.set $acc20 (v128.const i32x4 0 0 0 0)) (local.set $acc21 (v128.const i32x4 0 0 0 0))
        (local.set $acc30 (v128.const i32x4 0 0 0 0)) (local.set $acc31 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $aTile))))
        (local.set $p3
          (i32.add
            (local.tee $p2 (i32.add (local.tee $p1 (i32.add (local.get $ap) (local.get $aK))) (local.get $aK)))
            (local.get $aK)))
        (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bTile))))
        (local.set $kk (local.get $k))
        ;; One k per pass: B's 8 floats as two vectors, row r's float of A broadcast into row r.
        (loop $depth
          (local.set $b0 (v128.load (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $t (v128.load32_splat (local.get $ap)))
          {{madd $acc00 $t $b0}}
          {{madd $acc01 $t $b1}}
          (local.set $t (v128.load32_splat (local.get $p1)))
          {{madd $acc10 $t $b0}}
          {{madd $acc11 $t $b1}}
          (local.set $t (v128.load32_splat (local.get $p2)))
          {{madd $acc20 $t $b0}}
          {{madd $acc21 $t $b1}}
          (local.set $t (v128.load32_splat (local.get $p3)))
          {{madd $acc30 $t $b0}}
          {{madd $acc31 $t $b1}}
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
          (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
          (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
          (local.set $bp (i32.add (local.get $bp) (local.get $bK)))
          (br_if $depth (local.tee $kk (i32.sub (local.get $kk) (i32.const 1)))))
        (local.set $cp
          (i32.add
            (i32.add (local.get $c) (i32.mul (i32.mul (local.get $i) (i32.const 4)) (local.get $ldc)))
            (i32.mul (local.get $j) (i32.const 32))))
        ;; With accumulate, C's tile is added first; then the tile is stored row by row.
        (if (local.get $accumulate)
          (then
            (local.set $acc00 (f32x4.add (local.get $acc00) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 0))))))
            (local.set $acc01 (f32x4.add (local.get $acc01) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 0))))))
            (local.set $acc10 (f32x4.add (local.get $acc10) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 1))))))
            (local.set $acc11 (f32x4.add (local.get $acc11) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 1))))))
            (local.set $acc20 (f32x4.add (local.get $acc20) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 2))))))
            (local.set $acc21 (f32x4.add (local.get $acc21) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 2))))))
            (local.set $acc30 (f32x4.add (local.get $acc30) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3))))))
            (local.set $acc31 (f32x4.add (local.get $acc31) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3))))))))
        (v128.store (local.get $cp) (local.get $acc00))
        (v128.store offset=16 (local.get $cp) (local.get $acc01))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $acc10))
        (v128.store offset=16 (local.get $cp) (local.get $acc11))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $acc20))
        (v128.store offset=16 (local.get $cp) (local.get $acc21))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $acc30))
        (v128.store offset=16 (local.get $cp) (local.get $acc31))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (br_if $tileCols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $nt))))
      (br_if $tileRows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $mt)))))

  ;; gather(src, dst, plan, count, len, planStep): for i < count, dst[i*len .. +len] = the len
  ;; floats at src + plan[i] bytes, or zeros where plan[i] < 0 (im2col: one run per output pixel
  ;; and filter row or tap; len a multiple of 4, count > 0). The plan pointer advances planStep
  ;; bytes per run (0 repeats one run: a bias broadcast into every row).
  (func $gather (export "gather") (type $gather)
    (param $src i32) (param $dst i32) (param $plan i32) (param $count i32) (param $len i32) (param $planStep i32)
    (local $i i32) (local $from i32) (local $end i32)
    (local $zeros v128)
    (local.set $i (i32.const 0))
    (loop $runs
      (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $len) (i32.const 2))))
      (if (i32.ge_s (local.tee $from (i32.load (local.get $plan))) (i32.const 0))
        (then
          (local.set $from (i32.add (local.get $src) (local.get $from)))
          (loop $copy
            (v128.store (local.get $dst) (v128.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (i32.const 16)))
            (br_if $copy (i32.lt_u (local.tee $dst (i32.add (local.get $dst) (i32.const 16))) (local.get $end)))))
        (else
          ;; A run in the padding.
          (loop $zero
            (v128.store (local.get $dst) (local.get $zeros))
            (br_if $zero (i32.lt_u (local.tee $dst (i32.add (local.get $dst) (i32.const 16))) (local.get $end))))))
      (local.set $plan (i32.add (local.get $plan) (local.get $planStep)))
      (br_if $runs (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $count)))))

  ;; addRuns(src, dst, plan, count, len): for i < count, if plan[i] >= 0,
  ;; dst[plan[i] bytes .. + len floats] += src[i*len .. (i+1)*len] (col2im's scatter-add; len a
  ;; multiple of 4, count > 0). plan holds byte offsets into dst, -1 for taps in the padding.
  (func $addRuns (export "addRuns") (type $addRuns)
    (param $src i32) (param $dst i32) (param $plan i32) (param $count i32) (param $len i32)
    (local $i i32) (local $c i32) (local $psrc i32) (local $pplan i32) (local $d i32)
    (local.set $psrc (local.get $src))
    (local.set $pplan (local.get $plan))
    (local.set $i (i32.const 0))
    (loop $runs
      (if (i32.ge_s (local.tee $d (i32.load (local.get $pplan))) (i32.const 0))
        (then
          (local.set $d (i32.add (local.get $dst) (local.get $d)))
          (local.set $c (i32.const 0))
          (loop $add
            (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $psrc))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $psrc (i32.add (local.get $psrc) (i32.const 16)))
            (br_if $add (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $len)))))
        (else
          ;; A tap in the padding: skip its run of src.
          (local.set $psrc (i32.add (local.get $psrc) (i32.shl (local.get $len) (i32.const 2))))))
      (local.set $pplan (i32.add (local.get $pplan) (i32.const 4)))
      (br_if $runs (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $count))))))
