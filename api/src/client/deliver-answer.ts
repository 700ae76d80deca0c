import { type OperationResultObserver, TRPCClientError } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'

/** A call's one answer in tRPC's wire shape: a result, or an error shape. */
export interface Answer {
  result?: { data?: unknown }
  error?: unknown
}

/**
 * Hands a query's or mutation's one answer to tRPC: an error, or the value alone, without `complete`. The one
 * consumer of these links is tRPC's promise (`observableToPromise`), which settles on the value; a `complete` after
 * it would only abort that promise's AbortController, and the DOMException an abort builds captures a stack trace:
 * 10–40 µs of every call, a tenth of a query's time on loopback. The links tidy up their own state on the answer.
 * Checked against @trpc/client 11.25: a tRPC whose promise waited for `complete` would leave every call hanging,
 * which each API test would show as a timeout.
 */
export function deliverAnswer<TRouter extends AnyRouter>(observer: OperationResultObserver<TRouter, unknown>, answer: Answer): void {
  if (answer.error !== undefined) observer.error(TRPCClientError.from(answer as { error: never }))
  else observer.next({ result: { type: 'data', data: answer.result?.data }, context: {} })
}
