/** What went wrong, in the words of the JSON error body; the status says it to HTTP. */
export type GatewayErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'NOT_ACCEPTABLE'
  | 'METHOD_NOT_ALLOWED'
  | 'PRECONDITION_FAILED'
  | 'CORRUPT_BLOCK'
  | 'UNSUPPORTED_CODEC'
  | 'INVALID_BLOCK'
  | 'UNAVAILABLE'
  | 'INTERNAL'

export interface GatewayErrorDetails {
  /** The CID the request named (as it was written), when there was one. */
  cid?: string
  /** The part of the request at fault: `cid`, `path`, `format`, `Accept`, `dag-scope`… */
  field?: string
}

/** A refusal of the gateway, sent as `{error: {code, message, cid?, field?}}` with its HTTP status. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  readonly status: number
  readonly code: GatewayErrorCode
  readonly details: GatewayErrorDetails

  constructor(status: number, code: GatewayErrorCode, message: string, details: GatewayErrorDetails = {}) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}
