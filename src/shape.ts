/** Tensor shapes, for every layer from safetensors files up: one definition of the element count. */

/** Number of elements of a shape (the product of its dimensions; [] = scalar = 1). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
