/**
 * The adaptive contexts of one block, fresh at the prior for every block (a block decodes alone): time steps,
 * values (shared by every dimension, so a vector's dimensions learn together), ulp corrections and XOR floats;
 * plus scratch copies the encoder prices alternatives on.
 */
import { newIntProbs } from './int-coder.ts'
import type { Probs } from './range-coder.ts'
import { newXorProbs } from './xor-floats.ts'

export interface ModelSet {
  ts: Probs
  val: Probs
  corr: Probs
  xor: Probs
}

export interface Models extends ModelSet {
  scratch: ModelSet
}

function set(): ModelSet {
  return { ts: newIntProbs(), val: newIntProbs(), corr: newIntProbs(), xor: newXorProbs() }
}

export function newModels(): Models {
  return { ...set(), scratch: set() }
}

export function newDecoderModels(): ModelSet {
  return set()
}
