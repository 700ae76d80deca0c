import type { VsdbNode } from '@vsdb/engine'
import type { Principal, TokenStore } from '../tokens/index.ts'

export interface ApiContext {
  node: VsdbNode
  tokens: TokenStore
  /** Who the bearer token stands for; null without a valid one. */
  principal: Principal | null
  /** How peers and users reach this node (the member entry of the status). */
  listening: { url: string } | null
}
