import type { Operation, OperationLink, TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable } from '@trpc/server/observable'

/**
 * Sends each operation down one of several link chains, the one `choose` names: tRPC's splitLink picks one of two,
 * and the four nested to route a call here made ~8 observables of every call (~4 µs of a query's client side).
 */
export function chooseLink<TRouter extends AnyRouter, K extends string>(
  choose: (op: Operation) => K,
  chains: Record<K, TRPCLink<TRouter>[]>,
): TRPCLink<TRouter> {
  return (runtime) => {
    const built = new Map<string, OperationLink<TRouter>[]>()
    for (const [name, links] of Object.entries(chains) as [K, TRPCLink<TRouter>[]][])
      built.set(
        name,
        links.map((link) => link(runtime)),
      )
    return ({ op }) =>
      observable((observer) => {
        const name = choose(op)
        const links = built.get(name)
        if (links === undefined) throw new Error(`no link chain named ${name} for ${op.path}`)
        const execute = (index: number, current: Operation): ReturnType<OperationLink<TRouter>> => {
          const link = links[index]
          if (link === undefined) throw new Error(`the link chain for ${op.path} has no ending link`)
          return link({ op: current, next: (nextOp) => execute(index + 1, nextOp) })
        }
        return execute(0, op).subscribe(observer)
      })
  }
}
