/**
 * The adaptive contexts of one block, at the prior for every block (a block decodes alone): time steps, values
 * (shared by every dimension, so a vector's dimensions learn together), ulp corrections and XOR floats; plus
 * the scratch contexts the encoder prices the value prior and the XOR trial on. One set is kept per module and
 * reset per block: the codec is synchronous, so no two blocks ever share it at once.
 */
import { newIntProbs, resetIntProbs } from './int-prior.ts'
import type { Probs } from './range-coder.ts'
import { newXorProbs, resetXorProbs } from './xor-floats.ts'

export interface ModelSet {
  ts: Probs
  val: Probs
  corr: Probs
  xor: Probs
}

export interface Models extends ModelSet {
  scratch: { val: Probs; xor: Probs }
}

function set(): ModelSet {
  return { ts: newIntProbs(), val: newIntProbs(), corr: newIntProbs(), xor: newXorProbs() }
}

function reset(models: ModelSet): ModelSet {
  resetIntProbs(models.ts)
  resetIntProbs(models.val)
  resetIntProbs(models.corr)
  resetXorProbs(models.xor)
  return models
}

const encoderModels: Models = { ...set(), scratch: { val: newIntProbs(), xor: newXorProbs() } }
const decoderModels: ModelSet = set()

/** The encoder's contexts, reset to the prior (scratch copies are overwritten before each use). */
export function encoderContexts(): Models {
  reset(encoderModels)
  return encoderModels
}

export function decoderContexts(): ModelSet {
  return reset(decoderModels)
}
