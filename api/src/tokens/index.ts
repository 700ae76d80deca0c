export { openTokenStore, type Principal, SCOPES, type Scope, scopeAllows, type TokenInfo, type TokenStore } from './token-store.ts'
