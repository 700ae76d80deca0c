export type VsdbErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_EVENT'
  | 'NOT_INITIALIZED'
  | 'ALREADY_INITIALIZED'
  | 'IN_USE'
  | 'VERSION_TOO_NEW'
  | 'NOT_FOUND'
  | 'CORRUPT_BLOCK'
  | 'BAD_SIGNATURE'
  | 'BROKEN_CHAIN'
  | 'MISSING_BLOCK'
  | 'BAD_CAR'
  | 'CLOSED'
  | 'WRITE_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TOO_LARGE'
  | 'UNAVAILABLE'

export interface VsdbErrorDetails {
  cid?: string
  node?: string
  seq?: number
  field?: string
  line?: number
  column?: string
  [key: string]: unknown
}

/** The one error class of the project: `code` says what kind, `details` names the field, CID, node or line. */
export class VsdbError extends Error {
  override readonly name = 'VsdbError'
  readonly code: VsdbErrorCode
  readonly details: VsdbErrorDetails

  constructor(code: VsdbErrorCode, message: string, details: VsdbErrorDetails = {}, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.details = details
  }
}

export function isVsdbError(err: unknown, code?: VsdbErrorCode): err is VsdbError {
  return err instanceof VsdbError && (code === undefined || err.code === code)
}
