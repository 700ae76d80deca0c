import { VsdbError } from '@vsdb/log'

/** Throws the error for bytes that do not decode: a truncated, corrupt or foreign block. */
export function corrupt(message: string): never {
  throw new VsdbError('CORRUPT_BLOCK', `segment block: ${message}`)
}

/** Throws the error for an input the encoder refuses, naming the field. */
export function invalid(field: string, message: string): never {
  throw new VsdbError('INVALID_INPUT', `${field}: ${message}`, { field })
}
