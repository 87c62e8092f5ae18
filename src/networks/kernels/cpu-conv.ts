/**
 * Conv2DBackpropFilter for the `cpu` backend. The stock kernel reads every element through
 * TensorBuffer.get (index arithmetic from variadic arguments) in a 7-deep loop, which makes the
 * Nature DQN filter gradient take tens of seconds; this one walks flat arrays with the output
 * channel innermost and contiguous. Registered only when `cpu` is the chosen backend.
 */
import * as tf from '@tensorflow/tfjs';

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** dW[kh,kw,ci,co] = sum over n,oh,ow of x[n, oh*s+kh-top, ow*s+kw-left, ci] * dy[n,oh,ow,co] (NHWC). */
export function cpuConv2DBackpropFilter({ inputs, backend, attrs }: { inputs: Record<string, tf.TensorInfo>; backend: CpuBackend; attrs: Record<string, unknown> }): tf.TensorInfo {
  const x = inputs.x!;
  const dy = inputs.dy!;
  const dataFormat = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
  if (dataFormat !== 'channelsLast') throw new Error('cpu Conv2DBackpropFilter (npcforge) supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    dataFormat,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const xs = backend.data.get(x.dataId).values;
  const dys = backend.data.get(dy.dataId).values;
  const dw = new Float32Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        const dyBase = ((b * oh + y) * ow + xx) * co;
        for (let fy = 0; fy < kh; fy++) {
          const iy = y * info.strideHeight - top + fy;
          if (iy < 0 || iy >= h) continue;
          for (let fx = 0; fx < kw; fx++) {
            const ix = xx * info.strideWidth - left + fx;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((b * h + iy) * w + ix) * ci;
            const wBase = (fy * kw + fx) * ci * co;
            for (let c = 0; c < ci; c++) {
              const xv = xs[xBase + c]!;
              if (xv === 0) continue;
              const o = wBase + c * co;
              for (let d = 0; d < co; d++) dw[o + d]! += xv * dys[dyBase + d]!;
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo([kh, kw, ci, co], 'float32', dw);
}

let replacedCpu: tf.KernelConfig | undefined;
let cpuRegistered = false;

/** Registers the cpu filter-gradient fix (idempotent). */
export function registerCpuKernels(): void {
  if (cpuRegistered) return;
  replacedCpu = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (replacedCpu !== undefined) tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc: cpuConv2DBackpropFilter as unknown as tf.KernelFunc });
  cpuRegistered = true;
}

/** Restores the stock cpu filter gradient. */
export function unregisterCpuKernels(): void {
  if (!cpuRegistered) return;
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  if (replacedCpu !== undefined) tf.registerKernel(replacedCpu);
  cpuRegistered = false;
}
