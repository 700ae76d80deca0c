import type { VsdbNode } from '@vsdb/engine'
import type { Principal, TokenStore } from '../tokens/index.ts'

export interface ApiContext {
  node: VsdbNode
  tokens: TokenStore
  /** Who the bearer token stood for when the context was made; null without a valid one. */
  principal: Principal | null
  /**
   * Who it stands for now: the same, checked again if the tokens changed since (a WebSocket's context lives as long
   * as its connection, and a token revoked meanwhile must stop working on it).
   */
  principalNow(): Principal | null
  /** How peers and users reach this node (the member entry of the status). */
  listening: { url: string } | null
}
