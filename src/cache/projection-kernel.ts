/**
 * The projection's matrix-vector product in WebAssembly SIMD (four float lanes at a time): about ten times faster than
 * the JS loop in ./projection.ts, which matters because it runs once per lookup. The module is eleven instructions of
 * hand-assembled bytecode (listed below); nothing is fetched or compiled at run time but these bytes. When the runtime
 * lacks WebAssembly SIMD, or the dimensions are not a multiple of four, there is no kernel and the JS loop serves.
 */

export type ProjectFn = (v: ArrayLike<number>, out: Float32Array) => Float32Array;

const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const i32 = (n: number): number[] => [0x41, n];
const SIMD = 0xfd;

// mv(basis, v, out, dimBytes, dims): out[r] = sum over c of basis[r][c] * v[c], rows stored one after another.
// Locals: 0 basis, 1 v, 2 out, 3 dimBytes, 4 dims (params); 5 r, 6 c, 7 row (i32); 8 acc (v128).
const BODY = [
  0x02, 0x03, 0x7f, 0x01, 0x7b, // locals: 3 x i32, 1 x v128
  ...get(0), ...set(7), // row = basis
  0x03, 0x40, // loop rows
  SIMD, 0x0c, ...new Array<number>(16).fill(0), ...set(8), // acc = 0
  ...i32(0), ...set(6), // c = 0
  0x03, 0x40, // loop cols
  ...get(8),
  ...get(7), ...get(6), 0x6a, SIMD, 0x00, 0x02, 0x00, // v128.load(row + c)
  ...get(1), ...get(6), 0x6a, SIMD, 0x00, 0x02, 0x00, // v128.load(v + c)
  SIMD, 0xe6, 0x01, // f32x4.mul
  SIMD, 0xe4, 0x01, // f32x4.add
  ...set(8),
  ...get(6), ...i32(16), 0x6a, ...tee(6), ...get(3), 0x49, 0x0d, 0x00, // c += 16; continue while c < dimBytes
  0x0b, // end cols
  ...get(2), ...get(5), ...i32(2), 0x74, 0x6a, // address out + r * 4
  ...get(8), SIMD, 0x1f, 0x00, ...get(8), SIMD, 0x1f, 0x01, 0x92, // lane 0 + lane 1
  ...get(8), SIMD, 0x1f, 0x02, 0x92, ...get(8), SIMD, 0x1f, 0x03, 0x92, // + lane 2 + lane 3
  0x38, 0x02, 0x00, // f32.store
  ...get(7), ...get(3), 0x6a, ...set(7), // row += dimBytes
  ...get(5), ...i32(1), 0x6a, ...tee(5), ...get(4), 0x49, 0x0d, 0x00, // r += 1; continue while r < dims
  0x0b, // end rows
  0x0b, // end function
];

const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
function uleb(n: number): number[] {
  const out: number[] = [];
  do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b); } while (n !== 0);
  return out;
}

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]), // type: (i32 x 5) -> ()
  ...section(3, [0x01, 0x00]), // one function of type 0
  ...section(5, [0x01, 0x00, 0x01]), // one memory, at least one page
  ...section(7, [0x02, 0x01, 0x6d, 0x02, 0x00, 0x02, 0x6d, 0x76, 0x00, 0x00]), // export "m" (memory), "mv" (function)
  ...section(10, [0x01, ...uleb(BODY.length), ...BODY]),
]);

/** The few WebAssembly APIs used here (the build's type libraries do not declare the global). */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** A SIMD projection for this basis (dims x dim, row-major), or undefined when the runtime cannot run one. */
export function simdProjector(basis: ArrayLike<number>, dim: number, dims: number): ProjectFn | undefined {
  if (dim % 4 !== 0 || basis.length !== dim * dims) return undefined;
  if (compiled === undefined) {
    try { compiled = wasm === undefined ? null : new wasm.Module(MODULE); } catch { compiled = null; }
  }
  if (compiled === null || wasm === undefined) return undefined;
  const { exports } = new wasm.Instance(compiled, {});
  const memory = exports.m as WasmMemory;
  const mv = exports.mv as (b: number, v: number, out: number, dimBytes: number, dims: number) => void;
  const vAt = dim * dims * 4, outAt = vAt + dim * 4, end = outAt + dims * 4;
  memory.grow(Math.max(0, Math.ceil(end / 65536) - memory.buffer.byteLength / 65536));
  // The memory never grows again, so these views stay valid.
  const heap = new Float32Array(memory.buffer);
  heap.set(basis, 0);
  const v = heap.subarray(vAt / 4, vAt / 4 + dim);
  const result = heap.subarray(outAt / 4, outAt / 4 + dims);
  return (input, out) => {
    v.set(input);
    mv(0, vAt, outAt, dim * 4, dims);
    out.set(result);
    return out;
  };
}
