/**
 * Losses. F.cross_entropy(logits [B, C], labels [B] int64) with reduction 'mean' (mean over the batch of
 * -log_softmax(logits)[label]; gradient (softmax - onehot) / B, torch's) is the graph layer's composite.
 */
export { crossEntropy, softCrossEntropy } from '../graph/index.js';
