/**
 * Reverse-mode autodiff over a Graph. Nodes are stored in creation order, which is topological; `gradients`
 * marks the nodes that depend on `wrt` and lead to `loss`, walks them in reverse applying the rule of each
 * op from gradients.ts, and sums fan-in contributions with Add. The new gradient nodes are appended to the
 * same graph, so one ONNX model holds forward, backward and (appended by the caller) the optimizer update.
 */
import { SerError } from '../errors.js';
import { type Tensor, isFloat, shapeString } from './graph.js';
import { GRADIENTS, type GradientRule, accumulate } from './gradients.js';
import { full } from './ops.js';

export interface GradientsOptions {
  /** d loss / d loss; default ones of loss's shape (so a non-scalar loss is summed). */
  seed?: Tensor;
  /**
   * Rules for ops defined outside this layer, consulted before GRADIENTS (e.g. src/nn/batch-norm.ts's
   * training-mode BatchNormalization with its fused backward).
   */
  rules?: Readonly<Record<string, GradientRule>>;
}

/**
 * d(loss)/d(w) for each w in `wrt`, as new tensors of w's shape. A w that does not influence `loss` gets
 * zeros. Throws EGRAD naming the op when a node on the path has no gradient rule.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[], options: GradientsOptions = {}): Tensor[] {
  const graph = loss.graph;
  if (!isFloat(loss.dtype))
    throw new SerError('EGRAD', 'graph', `gradients: loss '${loss.name}' is ${loss.dtype}, expected a float tensor`);
  for (const w of wrt) {
    if (w.graph !== graph) throw new SerError('EGRAD', 'graph', `gradients: '${w.name}' belongs to another graph`);
    if (!isFloat(w.dtype))
      throw new SerError('EGRAD', 'graph', `gradients: cannot differentiate with respect to ${w.dtype} tensor '${w.name}'`);
  }
  const nodes = [...graph.nodes]; // snapshot: gradient nodes appended below are not revisited

  // Forward pass: which tensors depend on wrt (through float values, not through detach).
  const dependent = new Set(wrt.map((w) => w.name));
  const active = nodes.map((node) => {
    const on = node.inputs.some((t) => t !== null && isFloat(t.dtype) && dependent.has(t.name));
    if (on) for (const t of node.outputs) if (isFloat(t.dtype) && !graph.detached.has(t.name)) dependent.add(t.name);
    return on;
  });
  if (!dependent.has(loss.name)) {
    return wrt.map((w) => full(graph, w.shape, 0, w.dtype));
  }

  const grads = new Map<string, Tensor>();
  const seed = options.seed ?? full(graph, loss.shape, 1, loss.dtype);
  if (seed.shape.length !== loss.shape.length || seed.shape.some((d, i) => d !== loss.shape[i])) {
    throw new SerError('EGRAD', 'graph', `gradients: seed ${shapeString(seed.shape)} does not match loss ${shapeString(loss.shape)}`);
  }
  grads.set(loss.name, seed);

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node || !active[i]) continue;
    const outputGrads = node.outputs.map((t) => grads.get(t.name) ?? null);
    if (outputGrads.every((g) => g === null)) continue;
    const rule = options.rules?.[node.op] ?? GRADIENTS[node.op];
    if (!rule) {
      throw new SerError(
        'EGRAD',
        'graph',
        `no gradient rule for op ${node.op} (node '${node.name}'); add one to src/graph/gradients.ts or detach its input`,
      );
    }
    if (outputGrads[0] === null) {
      throw new SerError('EGRAD', 'graph', `${node.op} '${node.name}': only the gradient of output 0 is supported`);
    }
    const inputGrads = graph.scope(`grad/${node.name}`, () => rule(node, outputGrads));
    node.inputs.forEach((t, k) => {
      const g = inputGrads[k];
      if (!t || !g || !dependent.has(t.name)) return;
      if (g.shape.length !== t.shape.length || g.shape.some((d, j) => d !== t.shape[j]) || g.dtype !== t.dtype) {
        throw new SerError(
          'EGRAD',
          'graph',
          `${node.op} '${node.name}': gradient rule gave ${g.dtype} ${shapeString(g.shape)} for input ${k} of ${t.dtype} ${shapeString(t.shape)}`,
        );
      }
      grads.set(t.name, accumulate(grads.get(t.name), g));
    });
  }
  return wrt.map((w) => grads.get(w.name) ?? full(graph, w.shape, 0, w.dtype));
}
