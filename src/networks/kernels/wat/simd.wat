;; Element-wise SIMD kernels on the tfjs `wasm` backend's heap (see simd.ts for why and how they
;; are called). Template: scripts/build-kernels.mjs fills in {{memory}}, the import of the heap
;; (private, or shared for the threaded build). Pointers are byte offsets into the heap. Every
;; f32x4 operation is IEEE single precision, so results equal those of the tfjs ops they replace
;; bit for bit. Loads and stores say align=4: tensors are only float-aligned on the heap.
(module
  (type $adam (func (param i32 i32 i32 i32 i32 i32 i32 i32 f32 f32 f32 f32 f32 f32)))
  (type $rmsprop (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 f32 f32 f32 f32 f32 i32)))
  (type $swap (func (param i32 i32 i32 i32 i32)))
  (type $colsum (func (param i32 i32 i32 i32)))
  {{memory}}

  ;; adam(n, w, g, m, v, wOut, mOut, vOut, beta1, 1-beta1, beta2, 1-beta2, stepSize, epsilon):
  ;; one Adam step over n floats (n a multiple of 4; the caller does the rest), each product and
  ;; sum rounded as the op version rounds it.
  (func $adam (export "adam") (type $adam)
    (param $n i32) (param $w i32) (param $g i32) (param $m i32) (param $v i32)
    (param $wOut i32) (param $mOut i32) (param $vOut i32)
    (param $beta1 f32) (param $oneMinusBeta1 f32) (param $beta2 f32) (param $oneMinusBeta2 f32)
    (param $stepSize f32) (param $epsilon f32)
    (local $i i32) (local $end i32)
    ;; The scalars broadcast to 4 lanes, then this step's gradient and new moments.
    (local $beta1x4 v128) (local $oneMinusBeta1x4 v128) (local $beta2x4 v128) (local $oneMinusBeta2x4 v128)
    (local $stepSizex4 v128) (local $epsilonx4 v128) (local $grad v128) (local $mNew v128) (local $vNew v128)
    (local.set $beta1x4 (f32x4.splat (local.get $beta1)))
    (local.set $oneMinusBeta1x4 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $beta2x4 (f32x4.splat (local.get $beta2)))
    (local.set $oneMinusBeta2x4 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $stepSizex4 (f32x4.splat (local.get $stepSize)))
    (local.set $epsilonx4 (f32x4.splat (local.get $epsilon)))
    ;; i runs over byte offsets 0, 16, ... < 4n.
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $elements
        (local.set $grad (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        ;; m = m * beta1 + g * (1 - beta1)
        (local.set $mNew
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $i))) (local.get $beta1x4))
            (f32x4.mul (local.get $grad) (local.get $oneMinusBeta1x4))))
        ;; v = v * beta2 + g^2 * (1 - beta2)
        (local.set $vNew
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $i))) (local.get $beta2x4))
            (f32x4.mul (f32x4.mul (local.get $grad) (local.get $grad)) (local.get $oneMinusBeta2x4))))
        (v128.store align=4 (i32.add (local.get $mOut) (local.get $i)) (local.get $mNew))
        (v128.store align=4 (i32.add (local.get $vOut) (local.get $i)) (local.get $vNew))
        ;; w = w - stepSize * (m / (sqrt(v) + epsilon))
        (v128.store align=4 (i32.add (local.get $wOut) (local.get $i))
          (f32x4.sub
            (v128.load align=4 (i32.add (local.get $w) (local.get $i)))
            (f32x4.mul
              (local.get $stepSizex4)
              (f32x4.div (local.get $mNew) (f32x4.add (f32x4.sqrt (local.get $vNew)) (local.get $epsilonx4))))))
        (br_if $elements (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  ;; rmsprop(n, w, g, sq, mean, mom, wOut, sqOut, meanOut, momOut, decay, 1-decay, lr, epsilon,
  ;; momentum, hasMomentum): one centred RMSProp step over n floats (a multiple of 4); mom and
  ;; momOut are read and written only when hasMomentum != 0.
  (func $rmsprop (export "rmsprop") (type $rmsprop)
    (param $n i32) (param $w i32) (param $g i32) (param $sq i32) (param $mean i32) (param $mom i32)
    (param $wOut i32) (param $sqOut i32) (param $meanOut i32) (param $momOut i32)
    (param $decay f32) (param $oneMinusDecay f32) (param $lr f32) (param $epsilon f32) (param $momentum f32)
    (param $hasMomentum i32)
    (local $i i32) (local $end i32)
    (local $decayx4 v128) (local $oneMinusDecayx4 v128) (local $lrx4 v128) (local $epsilonx4 v128)
    (local $momentumx4 v128) (local $grad v128) (local $sqNew v128) (local $meanNew v128)
    (local $update v128)
    ;; Never set: the 0 of relu(sq - mean^2).
    (local $zero v128)
    (local.set $decayx4 (f32x4.splat (local.get $decay)))
    (local.set $oneMinusDecayx4 (f32x4.splat (local.get $oneMinusDecay)))
    (local.set $lrx4 (f32x4.splat (local.get $lr)))
    (local.set $epsilonx4 (f32x4.splat (local.get $epsilon)))
    (local.set $momentumx4 (f32x4.splat (local.get $momentum)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $elements
        (local.set $grad (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        ;; sq = sq * decay + g^2 * (1 - decay)
        (local.set $sqNew
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $sq) (local.get $i))) (local.get $decayx4))
            (f32x4.mul (f32x4.mul (local.get $grad) (local.get $grad)) (local.get $oneMinusDecayx4))))
        ;; mean = mean * decay + g * (1 - decay)
        (local.set $meanNew
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $mean) (local.get $i))) (local.get $decayx4))
            (f32x4.mul (local.get $grad) (local.get $oneMinusDecayx4))))
        (v128.store align=4 (i32.add (local.get $sqOut) (local.get $i)) (local.get $sqNew))
        (v128.store align=4 (i32.add (local.get $meanOut) (local.get $i)) (local.get $meanNew))
        ;; update = lr * (g / (sqrt(relu(sq - mean^2)) + epsilon))
        (local.set $update
          (f32x4.mul
            (local.get $lrx4)
            (f32x4.div
              (local.get $grad)
              (f32x4.add
                (f32x4.sqrt
                  (f32x4.max
                    (f32x4.sub (local.get $sqNew) (f32x4.mul (local.get $meanNew) (local.get $meanNew)))
                    (local.get $zero)))
                (local.get $epsilonx4)))))
        ;; With momentum: mom = mom * momentum + update, and the step is mom.
        (if (local.get $hasMomentum)
          (then
            (local.set $update
              (f32x4.add
                (f32x4.mul (v128.load align=4 (i32.add (local.get $mom) (local.get $i))) (local.get $momentumx4))
                (local.get $update)))
            (v128.store align=4 (i32.add (local.get $momOut) (local.get $i)) (local.get $update))))
        ;; w = w - update
        (v128.store align=4 (i32.add (local.get $wOut) (local.get $i))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $w) (local.get $i))) (local.get $update)))
        (br_if $elements (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end))))))

  ;; swap02(src, dst, A, B, C): dst[c][b][a] = src[a][b][c] (floats; A and C multiples of 4, all
  ;; > 0), by 4x4 blocks transposed in registers. A 2-D transpose is B = 1; tfjs perm [3,1,2,0] of
  ;; NHWC is A = N, B = H*W, C = channels. (A row step written `stride * 1` is a multiply by one
  ;; kept from the hand-assembled module, whose bytes these must equal.)
  (func $swap02 (export "swap02") (type $swap)
    (param $src i32) (param $dst i32) (param $A i32) (param $B i32) (param $C i32)
    (local $b i32) (local $a i32) (local $c i32)
    ;; Bytes between rows a and a+1 of src, and between rows c and c+1 of dst.
    (local $sIn i32) (local $sOut i32)
    (local $pin i32) (local $pout i32)
    ;; Four rows of a block as read, then interleaved pairwise.
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $sIn (i32.shl (i32.mul (local.get $B) (local.get $C)) (i32.const 2)))
    (local.set $sOut (i32.shl (i32.mul (local.get $B) (local.get $A)) (i32.const 2)))
    (local.set $b (i32.const 0))
    (loop $middle
      (local.set $a (i32.const 0))
      (loop $blockRows
        ;; pin = &src[a][b][0], pout = &dst[0][b][a]
        (local.set $pin
          (i32.add (local.get $src)
            (i32.shl (i32.mul (i32.add (i32.mul (local.get $a) (local.get $B)) (local.get $b)) (local.get $C)) (i32.const 2))))
        (local.set $pout
          (i32.add (local.get $dst)
            (i32.shl (i32.add (i32.mul (local.get $b) (local.get $A)) (local.get $a)) (i32.const 2))))
        (local.set $c (i32.const 0))
        (loop $blockCols
          (local.set $r0 (v128.load align=4 (local.get $pin)))
          (local.set $r1 (v128.load align=4 (i32.add (local.get $pin) (i32.mul (local.get $sIn) (i32.const 1)))))
          (local.set $r2 (v128.load align=4 (i32.add (local.get $pin) (i32.mul (local.get $sIn) (i32.const 2)))))
          (local.set $r3 (v128.load align=4 (i32.add (local.get $pin) (i32.mul (local.get $sIn) (i32.const 3)))))
          ;; t0 = r0.0 r1.0 r0.1 r1.1, t1 = r0.2 r1.2 r0.3 r1.3, t2 and t3 alike of r2 and r3.
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
          ;; Column q of the block (lane q of r0 .. r3) becomes row q of dst's block.
          (v128.store align=4 (local.get $pout)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store align=4 (i32.add (local.get $pout) (i32.mul (local.get $sOut) (i32.const 1)))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store align=4 (i32.add (local.get $pout) (i32.mul (local.get $sOut) (i32.const 2)))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store align=4 (i32.add (local.get $pout) (i32.mul (local.get $sOut) (i32.const 3)))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $pin (i32.add (local.get $pin) (i32.const 16)))
          (local.set $pout (i32.add (local.get $pout) (i32.mul (local.get $sOut) (i32.const 4))))
          (br_if $blockCols (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $C))))
        (br_if $blockRows (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 4))) (local.get $A))))
      (br_if $middle (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $B)))))

  ;; swap01(src, dst, A, B, C): dst[b][a][c] = src[a][b][c] (floats; C a multiple of 4, all > 0).
  ;; tfjs perm [1,2,0,3] of NHWC is A = N, B = H*W. src is read in order.
  (func $swap01 (export "swap01") (type $swap)
    (param $src i32) (param $dst i32) (param $A i32) (param $B i32) (param $C i32)
    (local $a i32) (local $b i32) (local $c i32) (local $pin i32) (local $pout i32)
    (local.set $pin (local.get $src))
    (local.set $a (i32.const 0))
    (loop $outer
      (local.set $b (i32.const 0))
      (loop $middle
        ;; pout = &dst[b][a][0]
        (local.set $pout
          (i32.add (local.get $dst)
            (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (local.get $A)) (local.get $a)) (local.get $C)) (i32.const 2))))
        (local.set $c (i32.const 0))
        (loop $row
          (v128.store align=4 (local.get $pout) (v128.load align=4 (local.get $pin)))
          (local.set $pin (i32.add (local.get $pin) (i32.const 16)))
          (local.set $pout (i32.add (local.get $pout) (i32.const 16)))
          (br_if $row (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $C))))
        (br_if $middle (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $B))))
      (br_if $outer (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $A)))))

  ;; colsum(src, dst, R, C): dst[c] = sum over r of src[r][c], rows added in order (C a multiple
  ;; of 4, all > 0): the bias gradients, without the transpose tfjs's Sum does first.
  (func $colsum (export "colsum") (type $colsum)
    (param $src i32) (param $dst i32) (param $R i32) (param $C i32)
    (local $r i32) (local $c i32) (local $pin i32) (local $pout i32)
    ;; Never set: the zeros dst starts from.
    (local $zero v128)
    (local.set $pout (local.get $dst))
    (local.set $c (i32.const 0))
    (loop $clear
      (v128.store align=4 (local.get $pout) (local.get $zero))
      (local.set $pout (i32.add (local.get $pout) (i32.const 16)))
      (br_if $clear (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $C))))
    (local.set $pin (local.get $src))
    (local.set $r (i32.const 0))
    (loop $rows
      (local.set $pout (local.get $dst))
      (local.set $c (i32.const 0))
      (loop $cols
        (v128.store align=4 (local.get $pout) (f32x4.add (v128.load align=4 (local.get $pout)) (v128.load align=4 (local.get $pin))))
        (local.set $pin (i32.add (local.get $pin) (i32.const 16)))
        (local.set $pout (i32.add (local.get $pout) (i32.const 16)))
        (br_if $cols (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $C))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $R))))))
