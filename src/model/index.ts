/**
 * CNN-TM: configuration and PyTorch state_dict layout, the graph builders (train / eval forward, training step),
 * the trainer the training loop drives, and PyTorch-compatible weights in safetensors.
 */
export {
  type CnnTmConfig,
  PAPER_CNN_TM,
  type StateEntry,
  type StateRole,
  cnnOutputSize,
  parameterCount,
  stateLayout,
  validateConfig,
} from './config.js';
export { type CnnTmForward, buildCnnTm, buildEvalGraph } from './cnn-tm.js';
export { type TrainGraphOptions, EXP_AVG, EXP_AVG_SQ, GRAD, NEW, buildTrainGraph } from './train-graph.js';
export { CnnTmTrainer, OPTIMIZER_PREFIX, type TrainerOptions } from './trainer.js';
export { type ImportOptions, type StateDict, importStateDict, initialState, loadStateDict, saveStateDict } from './weights.js';
