/**
 * Identity for the `wasm` backend. The stock kernel copies the data; tfjs core calls it for every
 * tensor it saves for the backward pass (`clone`), so a train step copied its inputs and weights
 * dozens of times (37 copies per MinAtar step, including each weight matrix). Tensor data is
 * immutable in tfjs, so, as the `cpu` backend does, the output shares the input's data and only
 * the reference count changes.
 */
import { KernelArgs, WasmKernelFunc } from './wasm-util.js';

export const identity: WasmKernelFunc = ({ inputs, backend }: KernelArgs) => {
  const x = inputs.x!;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
